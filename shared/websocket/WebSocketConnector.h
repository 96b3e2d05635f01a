#pragma once

#include "http/HttpParser.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QSslError>
#include <QString>
#include <QTimer>
#include <QUrl>

class QTcpSocket;

namespace keyhole::websocket {

class WebSocketChannel;

// Dials a ws:// or wss:// URL and does the client's opening handshake (RFC 6455 4.1) itself, so the
// request is ours to write; then hands the socket to a client-role WebSocketChannel. Connects through
// the application's QNetworkProxy like any QTcpSocket. One attempt per object: open() once, then
// exactly one of succeeded() or failed(), unless abort() comes first (then neither).
class WebSocketConnector : public QObject
{
    Q_OBJECT

public:
    struct Options {
        QUrl url; // ws:// or wss://
        QByteArray userAgent;
        QList<QSslCertificate> extraCaCertificates;      // trusted besides the system's, for wss://
        int timeoutMs = 20000;                           // connect, TLS and the handshake together
        QString peerName = QStringLiteral("the server"); // for error messages: "the proxy refused ..."
    };

    // What went wrong, for callers that tell lasting problems (wrong URL, certificate) from passing ones.
    enum class Failure {
        None,
        BadUrl,         // not ws:// or wss://
        TimedOut,       // no WebSocket within timeoutMs
        HostNotFound,   // the name does not resolve
        Refused,        // TCP connection refused
        Network,        // any other socket error
        Certificate,    // TLS: the peer's certificate was not accepted
        Tls,            // TLS handshake failed without a certificate complaint (often: no TLS on that port)
        Closed,         // the peer closed before answering the handshake
        BadHandshake,   // the answer is not valid HTTP or not a valid WebSocket upgrade
        UpgradeRefused, // an HTTP answer other than 101; httpStatus() says which
    };

    explicit WebSocketConnector(const Options &options, QObject *parent = nullptr);
    ~WebSocketConnector() override;

    void open();
    // Set before failed() is emitted.
    Failure failure() const { return m_failure; }
    int httpStatus() const { return m_httpStatus; }
    // Gives up quietly: no signal follows.
    void abort();

Q_SIGNALS:
    // The channel is a child of this connector's parent, which owns it from now on.
    void succeeded(keyhole::websocket::WebSocketChannel *channel);
    void failed(const QString &reason);

private:
    void sendRequest();
    void onReadyRead();
    void fail(Failure failure, const QString &reason);
    void release();

    Options m_options;
    QTcpSocket *m_socket = nullptr;
    QByteArray m_key;
    http::HttpParser m_parser;
    QTimer m_timer;
    QList<QSslError> m_sslErrors;
    bool m_done = false;
    Failure m_failure = Failure::None;
    int m_httpStatus = 0;
};

} // namespace keyhole::websocket
