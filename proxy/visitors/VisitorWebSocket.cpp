#include "visitors/VisitorWebSocket.h"

#include "bus/ProxyMetrics.h"

#include "visitors/VisitorHost.h"
#include "visitors/VisitorOptions.h"
#include "util/Clock.h"
#include "visitors/VisitorLogging.h"
#include "websocket/WebSocketChannel.h"

#include <QStringDecoder>

namespace keyhole::proxy {

using websocket::WebSocketChannel;

namespace {
bool isValidUtf8(const QByteArray &bytes)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    (void)decoder.decode(bytes);
    return !decoder.hasError();
}
} // namespace

VisitorWebSocket::VisitorWebSocket(const QByteArray &id, const QString &label, const QString &peer,
                                   const QByteArray &path, WebSocketChannel *channel, VisitorHost *gateway,
                                   QObject *parent)
    : QObject(parent)
    , m_id(id)
    , m_label(label)
    , m_peer(peer)
    , m_path(path)
    , m_gateway(gateway)
    , m_channel(channel)
{
    m_openedMs = m_lastHeardMs = m_gateway->options().clock->monotonicMs();
    m_channel->setParent(this);
    m_channel->setMaxIncomingMessageBytes(m_gateway->options().maxWsMessageBytes);
    // Past this the visitor is not reading what the service sends: 1013 rather than more memory.
    m_channel->setMaxOutgoingBytes(kMaxQueuedBytes);
    m_channel->setSendTimeout(m_gateway->options().sendTimeoutMs);
    connect(m_channel, &WebSocketChannel::textMessageReceived, this,
            [this](const QString &text) { onMessage(text.toUtf8(), false); });
    connect(m_channel, &WebSocketChannel::binaryMessageReceived, this,
            [this](const QByteArray &data) { onMessage(data, true); });
    connect(m_channel, &WebSocketChannel::pong, this,
            [this] { m_lastHeardMs = m_gateway->options().clock->monotonicMs(); });
    connect(m_channel, &WebSocketChannel::disconnected, this, &VisitorWebSocket::onDisconnected);
    qCInfo(lcProxyHttp).noquote() << m_peer << m_label << "WS" << m_path << "open id=" + QString::fromLatin1(m_id);
}

VisitorWebSocket::~VisitorWebSocket()
{
    m_gateway->webSocketClosed(this);
}

void VisitorWebSocket::onMessage(const QByteArray &payload, bool binary)
{
    if (m_teardownSent)
        return; // the tunnel side has forgotten this socket
    m_lastHeardMs = m_gateway->options().clock->monotonicMs();
    ++m_messagesIn;
    m_bytesIn += payload.size();
    ProxyMetrics &metrics = m_gateway->metrics();
    ++metrics.webSocketMessagesToService;
    metrics.receivedBytes += quint64(payload.size());
    MessageBus *bus = m_gateway->bus();
    if (!bus->publishToTunnel(m_label, protocol::WsMessage{m_id, binary, payload})) {
        closeBoth(websocket::CloseGoingAway, QStringLiteral("the tunnel went away"));
        return;
    }
    // Nothing is dropped on the way to a congested tunnel: the visitor waits in TCP instead.
    if (bus->congestedFor(m_label)) {
        m_channel->setReadingPaused(true);
        m_gateway->pauseWebSocketForFlow(this);
    }
}

void VisitorWebSocket::resumeReading()
{
    if (m_gateway->bus()->congestedFor(m_label)) {
        m_gateway->pauseWebSocketForFlow(this);
        return;
    }
    m_channel->setReadingPaused(false);
}

void VisitorWebSocket::fromTunnel(const protocol::WsMessage &message)
{
    sendToVisitor(message);
}

void VisitorWebSocket::fromTunnel(const protocol::WsTeardown &teardown)
{
    m_teardownSent = true; // the tunnel side already forgot this socket
    closeVisitor(teardown.code, teardown.reason);
}

void VisitorWebSocket::sendToVisitor(const protocol::WsMessage &message)
{
    if (!m_channel->isOpen())
        return; // closing: the visitor is not waiting for more
    ++m_messagesOut;
    m_bytesOut += message.payload.size();
    ProxyMetrics &metrics = m_gateway->metrics();
    ++metrics.webSocketMessagesToVisitor;
    metrics.sentBytes += quint64(message.payload.size());
    // A text message the service sent must reach a browser as valid UTF-8, or the browser drops the
    // whole socket; replacement characters are what QWebSocket used to make of it.
    const bool sent = message.binary || isValidUtf8(message.payload)
        ? (message.binary ? m_channel->sendBinaryMessage(message.payload) : m_channel->sendTextMessage(message.payload))
        : m_channel->sendTextMessage(QString::fromUtf8(message.payload).toUtf8());
    // A visitor that does not read is not given unbounded memory.
    if (!sent)
        closeBoth(websocket::CloseTryAgainLater, QStringLiteral("the visitor is not reading"));
}

void VisitorWebSocket::fail(const ExchangeFailure &failure)
{
    m_teardownSent = true; // nothing left to tell on the tunnel side
    closeVisitor(failure.status == 502 ? websocket::CloseGoingAway : websocket::CloseInternalError,
                 failure.reason.left(120));
}

void VisitorWebSocket::closeBoth(int code, const QString &reason)
{
    if (!m_teardownSent) {
        m_teardownSent = true;
        m_gateway->bus()->publishToTunnel(m_label, protocol::WsTeardown{m_id, code, reason});
    }
    closeVisitor(code, reason);
}

void VisitorWebSocket::closeVisitor(int code, const QString &reason)
{
    // 1005 closes without a code; 1006 and other codes that may not be sent become 1000.
    if (code != websocket::CloseNoStatus && !websocket::isSendableCloseCode(code))
        code = websocket::CloseNormal;
    m_channel->close(quint16(code), reason);
}

void VisitorWebSocket::keepAlive(qint64 deadAfterMs)
{
    if (!m_channel->isOpen())
        return;
    if (m_channel->isReadingPaused())
        m_lastHeardMs =
            m_gateway->options()
                .clock->monotonicMs(); // we are not listening (the tunnel is congested): silence proves nothing
    if (m_gateway->options().clock->monotonicMs() - m_lastHeardMs > deadAfterMs) {
        qCInfo(lcProxyHttp).noquote() << "WS" << m_id << "visitor stopped answering pings: closed";
        m_channel->abort();
        return;
    }
    m_channel->ping();
}

void VisitorWebSocket::onDisconnected()
{
    int code = m_channel->closeCode();
    QString reason = m_channel->closeReason();
    // 1005 (no code) and 1006 (no close frame) cannot be sent in a close frame.
    if (code == websocket::CloseNoStatus)
        code = websocket::CloseNormal;
    if (m_channel->violationCode() != 0) { // the service hears why, as the visitor did
        code = m_channel->violationCode();
        reason = m_channel->errorString();
    } else if (!websocket::isSendableCloseCode(code)) {
        code = websocket::CloseGoingAway;
        reason = m_channel->errorString();
        if (reason.isEmpty())
            reason = QStringLiteral("the visitor went away");
    }
    if (!m_teardownSent) {
        m_teardownSent = true;
        m_gateway->bus()->publishToTunnel(m_label, protocol::WsTeardown{m_id, code, reason.left(120)});
    }
    qCInfo(lcProxyHttp).noquote() << m_peer << m_label << "WS" << m_path << "closed" << code
                                  << QString::number(m_gateway->options().clock->monotonicMs() - m_openedMs) + "ms"
                                  << "in=" + QString::number(m_messagesIn) + "/" + QString::number(m_bytesIn) + "B"
                                  << "out=" + QString::number(m_messagesOut) + "/" + QString::number(m_bytesOut) + "B"
                                  << "id=" + QString::fromLatin1(m_id);
    deleteLater();
}

} // namespace keyhole::proxy
