#include "tunnel/ControlEndpoint.h"

#include "ProxyConfig.h"
#include "tunnel/TunnelSession.h"
#include "util/Logging.h"

#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

namespace keyhole::proxy {

ControlEndpoint::ControlEndpoint(const TunnelContext &context, QObject *parent)
    : QObject(parent)
    , m_context(context)
    , m_server(new QWebSocketServer(QStringLiteral("keyhole-proxy"), QWebSocketServer::NonSecureMode, this))
{
    m_server->setHandshakeTimeout(std::chrono::milliseconds(context.config->registrationTimeoutMs));
    m_server->setMaxPendingConnections(1000);
    connect(m_server, &QWebSocketServer::newConnection, this, &ControlEndpoint::onNewConnection);
}

void ControlEndpoint::adopt(QTcpSocket *socket)
{
    // Until the handshake completes the socket is ours; QWebSocket adopts it afterwards.
    socket->setParent(this);
    connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
        if (socket->parent() == this)
            socket->deleteLater();
    });
    m_server->handleConnection(socket);
}

void ControlEndpoint::onNewConnection()
{
    while (QWebSocket *socket = m_server->nextPendingConnection())
        new TunnelSession(socket, m_context, this);
}

void ControlEndpoint::shutdownSessions()
{
    const auto sessions = findChildren<TunnelSession *>(Qt::FindDirectChildrenOnly);
    for (TunnelSession *session : sessions)
        session->shutdown();
}

} // namespace keyhole::proxy
