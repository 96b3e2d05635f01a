#pragma once

#include "http/HttpParser.h"
#include "protocol/HeaderList.h"
#include "websocket/WebSocketFrame.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QString>
#include <QStringList>
#include <QUrl>

#include <memory>

class QTcpSocket;

namespace keyhole::websocket {
class WebSocketChannel;
}

namespace keyhole::client {

// The client end of one WebSocket to the local service (RFC 6455), with an opening handshake we write
// ourselves: the request carries the Host we choose (the visitor's, by default), the visitor's
// headers and subprotocols, and a refusal keeps the service's status for the visitor. Neither
// QWebSocket nor websocket::WebSocketConnector (one URL, our own headers, a reason string on
// failure) can do that. After the handshake the socket goes to a client-role
// websocket::WebSocketChannel, the framing the control channel uses too: whole text and binary
// messages both ways, pings answered, the closing handshake bounded by its timeout. Incoming
// messages are bounded; outgoing bytes are the owner's to bound (bytesToWrite()). Owns its socket;
// one attempt per object.
class ServiceWebSocket : public QObject
{
    Q_OBJECT

public:
    struct Request {
        QUrl target;                  // http(s)://host:port: where to connect (TLS for https)
        QByteArray resource;          // path and query, as they go on the request line
        QByteArray host;              // the Host header
        protocol::HeaderList headers; // further headers; none of the handshake's own
        QStringList subprotocols;     // offered in Sec-WebSocket-Protocol, in order
        QList<QSslCertificate> extraCaCertificates;
        qint64 maxMessageBytes = 512000;
    };

    explicit ServiceWebSocket(QObject *parent = nullptr);
    ~ServiceWebSocket() override;

    void open(const Request &request);
    // False (nothing sent) when not open or when the channel's outgoing bound is reached. Text
    // payloads are UTF-8.
    bool sendMessage(const QByteArray &payload, bool binary);
    // Starts the closing handshake; disconnected() follows once the service closed too (or the owner
    // gives up and calls abort()).
    void close(quint16 code, const QString &reason);
    void abort();

    bool isOpen() const;
    qint64 bytesToWrite() const;
    // The subprotocol the service chose, if any.
    QByteArray subprotocol() const { return m_subprotocol; }
    // After refused(): the service's HTTP status when it answered without upgrading, else 0.
    int refusedStatus() const { return m_refusedStatus; }
    QAbstractSocket::SocketError socketError() const { return m_socketError; }
    QString errorString() const;
    // After disconnected(): the service's close code (1005 without one, 1006 when the connection ended
    // without a Close) and reason; when we closed because of its messages, our code (1002, 1007, 1009)
    // and what was wrong.
    quint16 closeCode() const;
    QString closeReason() const;
    // The connection ended because of a socket error rather than a close by either end.
    bool endedByError() const { return m_endedByError; }

Q_SIGNALS:
    void connected();
    // The handshake failed: see refusedStatus(), socketError() and errorString().
    void refused();
    void messageReceived(const QByteArray &payload, bool binary);
    // The connection is gone, after connected().
    void disconnected();

private:
    // Open covers the channel's whole life, closing included; the channel knows the rest.
    enum class State { Idle, Connecting, Handshake, Open, Closed };

    void onTransportReady();
    void onReadyRead();
    void onSocketError(QAbstractSocket::SocketError error);
    void onSocketDisconnected();
    void readHandshake();
    void failHandshake(int status, const QString &why);
    void finishOpen();

    QTcpSocket *m_socket = nullptr;                   // ours during the handshake, then owned by m_channel
    websocket::WebSocketChannel *m_channel = nullptr; // once open
    State m_state = State::Idle;
    Request m_request;
    QByteArray m_key;
    std::unique_ptr<http::HttpParser> m_parser;
    QByteArray m_handshakeBuffer;
    QByteArray m_subprotocol;
    int m_refusedStatus = 0;
    QAbstractSocket::SocketError m_socketError = QAbstractSocket::UnknownSocketError;
    QString m_errorString;
    bool m_endedByError = false;
};

} // namespace keyhole::client
