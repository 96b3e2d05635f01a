#include "visitors/VisitorGateway.h"

#include "visitors/VisitorConnection.h"
#include "visitors/VisitorWebSocket.h"
#include "bus/ConnectionBudget.h"
#include "protocol/Overloaded.h"
#include "visitors/VisitorLogging.h"
#include "websocket/Handshake.h"
#include "websocket/WebSocketChannel.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QTcpSocket>
#include <QTimer>

namespace keyhole::proxy {

VisitorGateway::VisitorGateway(VisitorOptions options, const QUrl &publicUrl, MessageBus *bus, QObject *parent)
    : QObject(parent)
    , m_options(std::move(options))
    , m_publicUrl(publicUrl)
    , m_router(m_options.domain, m_options.pathRouting)
    , m_bus(bus)
    , m_ids(bus->instanceId())
{
    m_bus->setVisitorSink(this);
    connect(&m_keepAlive, &QTimer::timeout, this, [this] {
        const auto sockets = m_webSockets;
        for (VisitorWebSocket *socket : sockets)
            socket->keepAlive(m_options.wsKeepAliveMs * 5 / 2);
    });
    m_keepAlive.start(m_options.wsKeepAliveMs);
    connect(m_bus, &MessageBus::flowResumed, this, [this] {
        const auto paused = std::exchange(m_paused, {});
        for (VisitorConnection *connection : paused)
            connection->resumeReading();
        const auto pausedWebSockets = std::exchange(m_pausedWebSockets, {});
        for (VisitorWebSocket *webSocket : pausedWebSockets)
            webSocket->resumeReading();
    });
}

VisitorGateway::~VisitorGateway()
{
    // Connections call back into us as they go: delete them while our members still exist.
    const auto connections = m_connections;
    qDeleteAll(connections);
    const auto webSockets = m_webSockets;
    qDeleteAll(webSockets);
    m_bus->setVisitorSink(nullptr);
}

void VisitorGateway::acceptConnection(QTcpSocket *socket, bool tls)
{
    if (m_shuttingDown) {
        qCInfo(lcProxyHttp) << "refusing a connection from" << socket->peerAddress().toString() << "(shutting down)";
        socket->abort();
        socket->deleteLater();
        return;
    }
    ++m_metrics->visitorConnections;
    // Plaintext bytes: after TLS, like the request bytes read.
    connect(socket, &QTcpSocket::bytesWritten, this,
            [metrics = m_metrics](qint64 bytes) { metrics->sentBytes += quint64(bytes); });
    auto *connection = new VisitorConnection(socket, tls, this, this);
    m_connections.insert(connection);
}

void VisitorGateway::beginShutdown()
{
    m_shuttingDown = true;
    const auto connections = m_connections;
    for (VisitorConnection *connection : connections)
        connection->closeWhenIdle();
    if (m_pending.isEmpty())
        Q_EMIT idle();
}

void VisitorGateway::registerPending(const QByteArray &id, VisitorConnection *connection)
{
    m_pending.insert(id, connection);
}

void VisitorGateway::unregisterPending(const QByteArray &id)
{
    if (m_pending.remove(id) && m_shuttingDown && m_pending.isEmpty())
        Q_EMIT idle();
}

void VisitorGateway::handOverControlChannel(QTcpSocket *socket, const http::RequestHead &request)
{
    disconnect(socket, &QTcpSocket::bytesWritten, this, nullptr); // a client's traffic, not a visitor's
    Q_EMIT controlChannelRequested(socket, request);
}

void VisitorGateway::acceptWebSocket(QTcpSocket *socket, const http::RequestHead &handshake,
                                     const QByteArray &afterHandshake, const QByteArray &id, const QString &label,
                                     const QString &peer, const QByteArray &path, const QByteArray &subprotocol)
{
    disconnect(socket, &QTcpSocket::bytesWritten, this, nullptr); // from here on its messages are counted
    const websocket::handshake::ServerAnswer answer = websocket::handshake::answerClientRequest(handshake, subprotocol);
    socket->write(answer.bytes);
    if (answer.status != 101 || socket->state() != QAbstractSocket::ConnectedState) {
        // The service's socket is open and counted against the tunnel: both must hear of it.
        qCInfo(lcProxyHttp).noquote() << peer << label << "WS" << path << "handshake failed after the service accepted:"
                                      << (answer.error.isEmpty() ? QStringLiteral("the visitor left") : answer.error);
        m_bus->publishToTunnel(
            label,
            protocol::WsTeardown{id, websocket::CloseGoingAway, QStringLiteral("the visitor's handshake failed")});
        socket->setParent(this);
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QTimer::singleShot(m_options.sendTimeoutMs, socket, [socket] { socket->abort(); });
        socket->disconnectFromHost();
        if (socket->state() == QAbstractSocket::UnconnectedState)
            socket->deleteLater();
        return;
    }
    auto *channel = new websocket::WebSocketChannel(socket, websocket::Role::Server, afterHandshake);
    auto *webSocket = new VisitorWebSocket(id, label, peer, path, channel, this, this);
    m_webSockets.insert(id, webSocket);
    ++m_metrics->webSocketOpens;
    ++m_metrics->requests[ProxyMetrics::RouteWebSocket][0]; // 101: 1xx
}

void VisitorGateway::webSocketClosed(VisitorWebSocket *webSocket)
{
    m_pausedWebSockets.remove(webSocket);
    auto it = m_webSockets.find(webSocket->id());
    if (it != m_webSockets.end() && it.value() == webSocket)
        m_webSockets.erase(it);
}

void VisitorGateway::connectionClosed(VisitorConnection *connection)
{
    m_connections.remove(connection);
    m_paused.remove(connection);
}

qint64 VisitorGateway::unsentBytes() const
{
    qint64 total = 0;
    for (const VisitorConnection *connection : m_connections)
        total += connection->unsentBytes();
    return total;
}

bool VisitorGateway::healthy() const
{
    return m_bus->health().healthy;
}

QByteArray VisitorGateway::healthReport() const
{
    const BusHealth bus = m_bus->health();
    QJsonObject report{
        {QStringLiteral("status"),
         m_shuttingDown    ? QStringLiteral("stopping")
             : bus.healthy ? QStringLiteral("ok")
                           : QStringLiteral("unhealthy")},
        {QStringLiteral("bus"), bus.detail},
        {QStringLiteral("version"), QStringLiteral(KEYHOLE_VERSION)},
        {QStringLiteral("tunnels"), m_bus->localTunnelCount()},
        {QStringLiteral("connections"), connectionCount()},
        {QStringLiteral("sockets"), m_budget ? m_budget->used() : connectionCount()},
        {QStringLiteral("unsentBytes"), unsentBytes()},
        {QStringLiteral("pending"), pendingCount()},
        {QStringLiteral("websockets"), webSocketCount()},
        {QStringLiteral("publicUrl"), m_publicUrl.toString()},
    };
    return QJsonDocument(report).toJson(QJsonDocument::Compact) + '\n';
}

void VisitorGateway::deliverToVisitor(const protocol::Message &message)
{
    using namespace protocol;
    // One handler per message type: a new type is a compile error here until it is handled.
    const auto ignore = [&message] {
        qCDebug(lcProxyHttp) << "ignoring" << messageTypeName(messageType(message)) << "for the visitor side";
    };
    const auto toWebSocket = [this](const auto &wsMessage) {
        if (VisitorWebSocket *webSocket = m_webSockets.value(wsMessage.id))
            webSocket->fromTunnel(wsMessage);
    };
    std::visit(Overloaded{
                   [this](const HttpResponse &response) {
                       VisitorConnection *connection = m_pending.value(response.id);
                       if (!connection) {
                           qCDebug(lcProxyHttp) << "late answer for" << response.id << "dropped";
                           return;
                       }
                       connection->answer(response);
                   },
                   [this](const WsResponse &response) {
                       // A visitor that left or timed out already sent the tunnel a WsTeardown for this id.
                       if (VisitorConnection *connection = m_pending.value(response.id))
                           connection->answerUpgrade(response);
                   },
                   [&toWebSocket](const WsMessage &ws) { toWebSocket(ws); },
                   [&toWebSocket](const WsTeardown &teardown) { toWebSocket(teardown); },
                   // What only goes towards a tunnel, or never crosses the bus:
                   [&ignore](const HttpRequest &) { ignore(); },
                   [&ignore](const WsRequest &) { ignore(); },
                   [&ignore](const RegistrationRequest &) { ignore(); },
                   [&ignore](const RegistrationResponse &) { ignore(); },
                   [&ignore](const Ping &) { ignore(); },
                   [&ignore](const Pong &) { ignore(); },
                   [&ignore](const Goodbye &) { ignore(); },
                   // Streamed bodies: for the connection whose exchange it is, if it is still there.
                   [this](const HttpBody &body) {
                       if (VisitorConnection *connection = m_pending.value(body.id))
                           connection->answerBody(body);
                   },
                   [this](const HttpCredit &credit) {
                       if (VisitorConnection *connection = m_pending.value(credit.id))
                           connection->creditUpload(credit);
                   },
                   [this](const HttpCancel &cancel) {
                       if (VisitorConnection *connection = m_pending.value(cancel.id))
                           connection->cancelled(cancel);
                   },
               },
               message);
}

void VisitorGateway::failExchange(const ExchangeFailure &failure)
{
    if (VisitorConnection *connection = m_pending.value(failure.id))
        connection->fail(failure);
    else if (VisitorWebSocket *webSocket = m_webSockets.value(failure.id))
        webSocket->fail(failure);
}

} // namespace keyhole::proxy
