#include "http/WebSocketAcceptor.h"

#include "http/VisitorWebSocket.h"
#include "util/Logging.h"

#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

namespace keyhole::proxy {

namespace {
constexpr qsizetype kMaxServers = 32;

QString peerKey(const QHostAddress &address, quint16 port)
{
    return address.toString() + u'|' + QString::number(port);
}
} // namespace

WebSocketAcceptor::WebSocketAcceptor(QObject *parent)
    : QObject(parent)
{
}

QWebSocketServer *WebSocketAcceptor::serverFor(const QString &subprotocol)
{
    if (QWebSocketServer *server = m_servers.value(subprotocol))
        return server;
    if (m_servers.size() >= kMaxServers && m_awaiting.isEmpty()) {
        qDeleteAll(m_servers);
        m_servers.clear();
    }
    auto *server = new QWebSocketServer(QStringLiteral("keyhole"), QWebSocketServer::NonSecureMode, this);
    if (!subprotocol.isEmpty())
        server->setSupportedSubprotocols({subprotocol});
    connect(server, &QWebSocketServer::newConnection, this, [this, server] { onNewConnection(server); });
    m_servers.insert(subprotocol, server);
    return server;
}

void WebSocketAcceptor::accept(QTcpSocket *socket, const QByteArray &afterHandshake, const QString &subprotocol,
                               VisitorWebSocket *target)
{
    const QString key = peerKey(socket->peerAddress(), socket->peerPort());
    m_awaiting.insert(key, {target, socket, afterHandshake});
    socket->setParent(this);
    connect(socket, &QTcpSocket::disconnected, this, [this, socket, key] {
        // Closed before the handshake completed: the WebSocket never opened.
        if (socket->parent() != this)
            return;
        const Awaiting awaiting = m_awaiting.take(key);
        if (awaiting.target)
            awaiting.target->fail({awaiting.target->id(), 500, QStringLiteral("handshake failed")});
        socket->deleteLater();
    });
    serverFor(subprotocol)->handleConnection(socket);
}

void WebSocketAcceptor::onNewConnection(QWebSocketServer *server)
{
    while (QWebSocket *socket = server->nextPendingConnection()) {
        const Awaiting awaiting = m_awaiting.take(peerKey(socket->peerAddress(), socket->peerPort()));
        if (!awaiting.target) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        awaiting.target->attach(socket);
        // Now that someone listens, hand over the frames the visitor sent behind its handshake,
        // in front of anything that arrived since, and make the QWebSocket look at them.
        if (awaiting.socket && !awaiting.afterHandshake.isEmpty()) {
            for (auto it = awaiting.afterHandshake.crbegin(); it != awaiting.afterHandshake.crend(); ++it)
                awaiting.socket->ungetChar(*it);
        }
        if (awaiting.socket && awaiting.socket->bytesAvailable() > 0)
            Q_EMIT awaiting.socket->readyRead();
    }
}

} // namespace keyhole::proxy
