#include "http/VisitorWebSocket.h"

#include "http/VisitorGateway.h"
#include "util/Logging.h"

#include <QWebSocket>

namespace keyhole::proxy {

namespace {
constexpr int kTryAgainLater = 1013; // RFC 6455 registry; QWebSocketProtocol has no name for it
}

VisitorWebSocket::VisitorWebSocket(const QByteArray &id, const QString &label, const QString &peer,
                                   const QByteArray &path, VisitorGateway *gateway)
    : QObject(gateway)
    , m_id(id)
    , m_label(label)
    , m_peer(peer)
    , m_path(path)
    , m_gateway(gateway)
{
    m_opened.start();
    m_lastHeard.start();
}

VisitorWebSocket::~VisitorWebSocket()
{
    m_gateway->webSocketClosed(this);
}

void VisitorWebSocket::attach(QWebSocket *socket)
{
    m_socket = socket;
    socket->setParent(this);
    socket->setMaxAllowedIncomingMessageSize(quint64(m_gateway->config().maxWsMessageBytes));
    socket->setMaxAllowedIncomingFrameSize(quint64(m_gateway->config().maxWsMessageBytes));
    connect(socket, &QWebSocket::textMessageReceived, this,
            [this](const QString &text) { onMessage(text.toUtf8(), false); });
    connect(socket, &QWebSocket::binaryMessageReceived, this,
            [this](const QByteArray &data) { onMessage(data, true); });
    connect(socket, &QWebSocket::pong, this, [this] { m_lastHeard.start(); });
    connect(socket, &QWebSocket::disconnected, this, &VisitorWebSocket::onDisconnected);
    qCInfo(lcProxyHttp).noquote() << m_peer << m_label << "WS" << m_path << "open id=" + QString::fromLatin1(m_id);

    const auto queued = std::exchange(m_queued, {});
    m_queuedBytes = 0;
    for (const protocol::WsMessage &message : queued)
        sendToVisitor(message);
    if (m_closedByTunnel)
        socket->close();
}

void VisitorWebSocket::onMessage(const QByteArray &payload, bool binary)
{
    m_lastHeard.start();
    ++m_messagesIn;
    m_bytesIn += payload.size();
    if (!m_gateway->bus()->publishToTunnel(m_label, protocol::WsMessage{m_id, binary, payload}))
        closeBoth(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("the tunnel went away"));
}

void VisitorWebSocket::fromTunnel(const protocol::Message &message)
{
    if (const auto *ws = std::get_if<protocol::WsMessage>(&message)) {
        if (!m_socket) {
            m_queuedBytes += ws->payload.size();
            if (m_queuedBytes > kMaxQueuedBytes) {
                closeBoth(kTryAgainLater, QStringLiteral("too much data queued"));
                return;
            }
            m_queued.append(*ws);
            return;
        }
        sendToVisitor(*ws);
        return;
    }
    if (const auto *teardown = std::get_if<protocol::WsTeardown>(&message)) {
        m_closedByTunnel = true;
        m_teardownSent = true; // the tunnel side already forgot this socket
        if (m_socket)
            m_socket->close(QWebSocketProtocol::CloseCode(teardown->code), teardown->reason);
        else
            deleteLater();
    }
}

void VisitorWebSocket::sendToVisitor(const protocol::WsMessage &message)
{
    if (!m_socket)
        return;
    // A visitor that does not read is not given unbounded memory.
    if (m_socket->bytesToWrite() > kMaxQueuedBytes) {
        closeBoth(kTryAgainLater, QStringLiteral("the visitor is not reading"));
        return;
    }
    ++m_messagesOut;
    m_bytesOut += message.payload.size();
    if (message.binary)
        m_socket->sendBinaryMessage(message.payload);
    else
        m_socket->sendTextMessage(QString::fromUtf8(message.payload));
}

void VisitorWebSocket::fail(const ExchangeFailure &failure)
{
    m_teardownSent = true; // nothing left to tell on the tunnel side
    const int code = failure.status == 502 ? int(QWebSocketProtocol::CloseCodeGoingAway)
                                            : int(QWebSocketProtocol::CloseCodeBadOperation);
    if (m_socket)
        m_socket->close(QWebSocketProtocol::CloseCode(code), failure.reason.left(120));
    else
        deleteLater();
}

void VisitorWebSocket::closeBoth(int code, const QString &reason)
{
    if (!m_teardownSent) {
        m_teardownSent = true;
        m_gateway->bus()->publishToTunnel(m_label, protocol::WsTeardown{m_id, code, reason});
    }
    if (m_socket)
        m_socket->close(QWebSocketProtocol::CloseCode(code), reason);
    else
        deleteLater();
}

void VisitorWebSocket::keepAlive(qint64 deadAfterMs)
{
    if (!m_socket)
        return;
    if (m_lastHeard.elapsed() > deadAfterMs) {
        qCInfo(lcProxyHttp).noquote() << "WS" << m_id << "visitor stopped answering pings: closed";
        m_socket->abort();
        return;
    }
    m_socket->ping();
}

void VisitorWebSocket::onDisconnected()
{
    int code = m_socket ? int(m_socket->closeCode()) : 1001;
    QString reason = m_socket ? m_socket->closeReason() : QString();
    // 1005 (no code) and 1006 (no close frame) cannot be sent in a close frame.
    if (code == QWebSocketProtocol::CloseCodeMissingStatusCode)
        code = QWebSocketProtocol::CloseCodeNormal;
    if (code == QWebSocketProtocol::CloseCodeAbnormalDisconnection || code < 1000 || code > 4999) {
        code = QWebSocketProtocol::CloseCodeGoingAway;
        reason = QStringLiteral("the visitor went away");
    }
    if (!m_teardownSent) {
        m_teardownSent = true;
        m_gateway->bus()->publishToTunnel(m_label, protocol::WsTeardown{m_id, code, reason});
    }
    qCInfo(lcProxyHttp).noquote() << m_peer << m_label << "WS" << m_path << "closed" << code
                                  << QString::number(m_opened.elapsed()) + "ms"
                                  << "in=" + QString::number(m_messagesIn) + "/" + QString::number(m_bytesIn) + "B"
                                  << "out=" + QString::number(m_messagesOut) + "/" + QString::number(m_bytesOut) + "B"
                                  << "id=" + QString::fromLatin1(m_id);
    deleteLater();
}

} // namespace keyhole::proxy
