#include "websocket/WebSocketConnector.h"

#include "websocket/WebSocketLogging.h"
#include "websocket/Handshake.h"
#include "websocket/WebSocketChannel.h"

#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

namespace keyhole::websocket {

namespace {
http::HttpParser::Limits responseLimits()
{
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = 16 * 1024; // a 101 is a few hundred bytes
    limits.maxHeaders = 50;
    limits.maxBodyBytes = 0; // a refusal's body is never read
    return limits;
}
} // namespace

WebSocketConnector::WebSocketConnector(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
    , m_parser(http::HttpParser::Mode::Response, responseLimits())
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, [this] {
        fail(Failure::TimedOut,
             QStringLiteral("no WebSocket connection to %1 within %2 s")
                 .arg(m_options.peerName)
                 .arg(m_options.timeoutMs / 1000.0));
    });
}

WebSocketConnector::~WebSocketConnector()
{
    abort();
}

void WebSocketConnector::open()
{
    Q_ASSERT(!m_socket && !m_done);
    const QUrl &url = m_options.url;
    const bool tls = url.scheme() == QLatin1String("wss");
    if (!tls && url.scheme() != QLatin1String("ws")) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                fail(Failure::BadUrl, QStringLiteral("not a ws:// or wss:// URL: %1").arg(m_options.url.toString()));
            },
            Qt::QueuedConnection);
        return;
    }
    m_key = handshake::generateKey();
    m_timer.start(m_options.timeoutMs);
    if (tls) {
        auto *socket = new QSslSocket(this);
        m_socket = socket;
        if (!m_options.extraCaCertificates.isEmpty()) {
            QSslConfiguration config = QSslConfiguration::defaultConfiguration();
            config.addCaCertificates(m_options.extraCaCertificates);
            socket->setSslConfiguration(config);
        }
        connect(socket, &QSslSocket::encrypted, this, &WebSocketConnector::sendRequest);
        connect(socket, &QSslSocket::sslErrors, this, [this](const QList<QSslError> &errors) { m_sslErrors = errors; });
    } else {
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, &WebSocketConnector::sendRequest);
    }
    connect(m_socket, &QTcpSocket::readyRead, this, &WebSocketConnector::onReadyRead);
    connect(m_socket, &QTcpSocket::errorOccurred, this, [this] {
        if (m_sslErrors.isEmpty()) {
            Failure failure = Failure::Network;
            switch (m_socket->error()) {
            case QAbstractSocket::HostNotFoundError:
                failure = Failure::HostNotFound;
                break;
            case QAbstractSocket::ConnectionRefusedError:
                failure = Failure::Refused;
                break;
            case QAbstractSocket::SslHandshakeFailedError:
            case QAbstractSocket::SslInternalError:
            case QAbstractSocket::SslInvalidUserDataError:
                failure = Failure::Tls;
                break;
            case QAbstractSocket::RemoteHostClosedError:
                failure = Failure::Closed;
                break;
            default:
                break;
            }
            fail(failure, m_socket->errorString());
            return;
        }
        QStringList names;
        for (const QSslError &error : std::as_const(m_sslErrors))
            names << error.errorString();
        fail(Failure::Certificate,
             QStringLiteral("TLS handshake with %1 failed: %2")
                 .arg(m_options.peerName, names.join(QStringLiteral("; "))));
    });
    connect(m_socket, &QTcpSocket::disconnected, this, [this] {
        fail(Failure::Closed,
             QStringLiteral("%1 closed the connection during the WebSocket handshake").arg(m_options.peerName));
    });
    const quint16 port = quint16(url.port(tls ? 443 : 80));
    if (tls)
        static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(url.host(), port);
    else
        m_socket->connectToHost(url.host(), port);
}

void WebSocketConnector::sendRequest()
{
    m_socket->write(handshake::clientRequest(m_options.url, m_key, m_options.userAgent));
}

void WebSocketConnector::onReadyRead()
{
    if (m_done)
        return;
    const QByteArray bytes = m_socket->readAll();
    qsizetype consumed = 0;
    const auto status = m_parser.feed(bytes.constData(), bytes.size(), &consumed);
    if (status == http::HttpParser::Status::NeedMore)
        return;
    if (status == http::HttpParser::Status::Error) {
        fail(Failure::BadHandshake,
             QStringLiteral("invalid WebSocket handshake from %1: %2").arg(m_options.peerName, m_parser.errorText()));
        return;
    }
    const http::ResponseHead &head = m_parser.responseHead();
    const QString problem = handshake::checkServerResponse(head, m_key);
    if (head.status != 101) {
        m_httpStatus = head.status;
        fail(Failure::UpgradeRefused,
             QStringLiteral("%1 refused the WebSocket upgrade: %2").arg(m_options.peerName, problem));
        return;
    }
    if (!problem.isEmpty()) {
        fail(Failure::BadHandshake,
             QStringLiteral("invalid WebSocket handshake from %1: %2").arg(m_options.peerName, problem));
        return;
    }
    // The bytes after the head are the server's first frames.
    const QByteArray afterHead = bytes.mid(consumed);
    QTcpSocket *socket = m_socket;
    release();
    auto *channel = new WebSocketChannel(socket, Role::Client, afterHead, parent());
    Q_EMIT succeeded(channel);
}

void WebSocketConnector::fail(Failure failure, const QString &reason)
{
    if (m_done)
        return;
    m_failure = failure;
    qCDebug(lcWebSocket).noquote() << "connecting to" << m_options.url.toString() << "failed:" << reason;
    QTcpSocket *socket = m_socket;
    release();
    if (socket) {
        socket->abort();
        socket->deleteLater();
    }
    Q_EMIT failed(reason);
}

void WebSocketConnector::abort()
{
    QTcpSocket *socket = m_socket;
    release();
    if (socket) {
        socket->abort();
        socket->deleteLater();
    }
}

void WebSocketConnector::release()
{
    m_done = true;
    m_timer.stop();
    if (m_socket)
        m_socket->disconnect(this);
    m_socket = nullptr;
}

} // namespace keyhole::websocket
