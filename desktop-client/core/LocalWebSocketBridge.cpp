#include "LocalWebSocketBridge.h"

#include "ClientLogging.h"

namespace keyhole::client {

LocalWebSocketBridge::LocalWebSocketBridge(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
}

LocalWebSocketBridge::~LocalWebSocketBridge()
{
    // Children go with us; they must not report anything on the way.
    for (LocalWebSocket *socket : std::as_const(m_sockets))
        socket->disconnect(this);
}

void LocalWebSocketBridge::setLimits(qint64 maxMessageBytes, int handshakeTimeoutMs)
{
    if (maxMessageBytes > 0)
        m_options.maxMessageBytes = maxMessageBytes;
    if (handshakeTimeoutMs > 0)
        m_options.handshakeTimeoutMs = handshakeTimeoutMs;
}

void LocalWebSocketBridge::open(const protocol::WsRequest &request)
{
    if (request.id.isEmpty() || m_sockets.contains(request.id)) {
        // Answering would talk over the WebSocket that has this id.
        qCWarning(lcForwarder, "ignoring a WsRequest with an empty or duplicate id");
        return;
    }
    auto *socket = new LocalWebSocket(request, m_options, this);
    m_sockets.insert(request.id, socket);
    connect(socket, &LocalWebSocket::responded, this, &LocalWebSocketBridge::responded);
    connect(socket, &LocalWebSocket::messageForProxy, this, &LocalWebSocketBridge::messageForProxy);
    connect(socket, &LocalWebSocket::tornDown, this, &LocalWebSocketBridge::tornDown);
    connect(socket, &LocalWebSocket::activity, this, &LocalWebSocketBridge::activity);
    connect(socket, &LocalWebSocket::finished, this, [this, socket] { forget(socket); });
    socket->open();
}

void LocalWebSocketBridge::deliver(const protocol::WsMessage &message)
{
    if (LocalWebSocket *socket = m_sockets.value(message.id))
        socket->deliver(message);
    else
        qCDebug(lcForwarder, "dropping a message for a WebSocket that is gone");
}

void LocalWebSocketBridge::teardown(const protocol::WsTeardown &teardown)
{
    LocalWebSocket *socket = m_sockets.value(teardown.id);
    if (!socket)
        return;
    // The proxy forgot the id; so do we, even while the local close handshake runs.
    socket->disconnect(this);
    connect(socket, &LocalWebSocket::activity, this, &LocalWebSocketBridge::activity);
    connect(socket, &LocalWebSocket::finished, socket, &QObject::deleteLater);
    m_sockets.remove(teardown.id);
    socket->closeFromProxy(teardown.code, teardown.reason);
}

void LocalWebSocketBridge::closeAll(int code, const QString &reason)
{
    const QList<QByteArray> ids = m_sockets.keys();
    for (const QByteArray &id : ids)
        teardown(protocol::WsTeardown{id, code, reason});
}

void LocalWebSocketBridge::forget(LocalWebSocket *socket)
{
    const auto it = m_sockets.find(socket->id());
    if (it != m_sockets.end() && it.value() == socket)
        m_sockets.erase(it);
    socket->disconnect(this);
    socket->deleteLater();
}

} // namespace keyhole::client
