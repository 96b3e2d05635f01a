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

    explicit WebSocketConnector(const Options &options, QObject *parent = nullptr);
    ~WebSocketConnector() override;

    void open();
    // Gives up quietly: no signal follows.
    void abort();

Q_SIGNALS:
    // The channel is a child of this connector's parent, which owns it from now on.
    void succeeded(keyhole::websocket::WebSocketChannel *channel);
    void failed(const QString &reason);

private:
    void sendRequest();
    void onReadyRead();
    void fail(const QString &reason);
    void release();

    Options m_options;
    QTcpSocket *m_socket = nullptr;
    QByteArray m_key;
    http::HttpParser m_parser;
    QTimer m_timer;
    QList<QSslError> m_sslErrors;
    bool m_done = false;
};

} // namespace keyhole::websocket
