#include "tunnels/ControlEndpoint.h"

#include "net/SocketWriteThrough.h"
#include "tunnels/TunnelSession.h"
#include "tunnels/TunnelLogging.h"
#include "websocket/Handshake.h"
#include "websocket/WebSocketChannel.h"

#include <QTcpSocket>
#include <QTimer>

namespace keyhole::proxy {

namespace {
constexpr int kRefusalDrainMs = 5000; // for the refusal to leave before the connection is cut
}

ControlEndpoint::ControlEndpoint(const TunnelContext &context, QObject *parent)
    : QObject(parent)
    , m_context(context)
{
}

void ControlEndpoint::adopt(QTcpSocket *socket, const http::RequestHead &request)
{
    const websocket::handshake::ServerAnswer answer = websocket::handshake::answerClientRequest(request);
    // Straight to the kernel when it takes it: a socket that never queues a write in Qt never
    // allocates Qt's write buffer, which thousands of idle tunnels would each keep.
    net::SocketWriteThrough::writeAll(socket, answer.bytes);
    if (answer.status != 101) {
        socket->setParent(this);
        qCInfo(lcProxyTunnel).noquote() << "refused a control channel handshake from"
                                        << socket->peerAddress().toString() << "with" << answer.status << "-"
                                        << answer.error;
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        QTimer::singleShot(kRefusalDrainMs, socket, [socket] {
            socket->abort();
            socket->deleteLater();
        });
        socket->disconnectFromHost();
        if (socket->state() == QAbstractSocket::UnconnectedState) // the peer had already gone
            socket->deleteLater();
        return;
    }
    // The channel takes the socket and the session the channel, each before it has another parent:
    // taking a child from a parent searches that parent's children, and this endpoint has one per
    // tunnel, which made every registration cost O(tunnels).
    auto *channel = new websocket::WebSocketChannel(socket, websocket::Role::Server, {}, nullptr);
    new TunnelSession(channel, m_context, this);
}

void ControlEndpoint::shutdownSessions()
{
    const auto sessions = findChildren<TunnelSession *>(Qt::FindDirectChildrenOnly);
    for (TunnelSession *session : sessions)
        session->shutdown();
}

void ControlEndpoint::applyLimits(const TunnelOptions &options)
{
    m_context.options.rateLimitPerSec = options.rateLimitPerSec;
    m_context.options.rateBurst = options.rateBurst;
    m_context.options.wsBytesPerSec = options.wsBytesPerSec;
    m_context.options.maxPendingPerTunnel = options.maxPendingPerTunnel;
    m_context.options.maxWebSocketsPerTunnel = options.maxWebSocketsPerTunnel;
    const auto sessions = findChildren<TunnelSession *>(Qt::FindDirectChildrenOnly);
    for (TunnelSession *session : sessions)
        session->applyLimits(options);
}

} // namespace keyhole::proxy
