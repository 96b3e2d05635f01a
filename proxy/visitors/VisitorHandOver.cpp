#include "visitors/VisitorConnection.h"

#include "visitors/LingeringClose.h"
#include "visitors/VisitorHost.h"
#include "visitors/VisitorOptions.h"
#include "visitors/VisitorResponse.h"
#include "websocket/WebSocketFrame.h"

#include <QTcpSocket>

// VisitorConnection, continued: the end of the connection, or its socket leaving it for a visitor's
// WebSocket (to the tunnel's service) or a client's control channel.

namespace keyhole::proxy {

namespace {
constexpr int kDrainMs = 2000;             // lingering close: how long unread bytes are still read...
constexpr qint64 kMaxDrainBytes = 1 << 20; // ...and how many, before the connection is cut
} // namespace

void VisitorConnection::answerUpgrade(const protocol::WsResponse &response)
{
    if (m_phase != Phase::AwaitingTunnel || !m_awaitingUpgrade || response.id != m_requestId)
        return;
    m_awaitingUpgrade = false;
    if (!response.accepted) {
        VisitorResponse refusal = VisitorResponse::fromRefusedUpgrade(response);
        respond(refusal.status, std::move(refusal.headers), refusal.body, true);
        return;
    }
    m_gateway->unregisterPending(m_requestId);
    m_pendingOnBus = false;
    const QByteArray id = m_requestId;
    const QString label = m_route.label;
    const QByteArray path = m_path;
    const QString peer = m_peer;
    const http::RequestHead handshake = m_parser.requestHead();
    QByteArray afterHandshake;
    QTcpSocket *socket = releaseSocket(&afterHandshake);
    m_gateway->acceptWebSocket(socket, handshake, afterHandshake, id, label, peer, path, response.subprotocol);
}

void VisitorConnection::abandonUpgrade()
{
    // The client may already be connecting to the service: tell it nobody is waiting any more.
    if (!m_awaitingUpgrade)
        return;
    m_awaitingUpgrade = false;
    m_gateway->bus()->publishToTunnel(
        m_route.label,
        protocol::WsTeardown{m_requestId, websocket::CloseGoingAway, QStringLiteral("the visitor left")});
}

void VisitorConnection::handOver()
{
    // The control channel answers the handshake itself, from the request we already parsed.
    const http::RequestHead head = m_parser.requestHead();
    QByteArray afterHandshake;
    QTcpSocket *socket = releaseSocket(&afterHandshake);
    // A client sends nothing before the handshake completes; anything else is not our protocol.
    if (!afterHandshake.isEmpty()) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    m_gateway->handOverControlChannel(socket, head);
}

QTcpSocket *VisitorConnection::releaseSocket(QByteArray *afterHandshake)
{
    // The handshake was parsed here; what the visitor sent behind it (its first frames) goes to the
    // WebSocket's channel, ahead of whatever the socket still holds.
    m_timer.stop();
    m_phase = Phase::Closing;
    disconnect(m_socket, nullptr, this, nullptr);
    readSocket();
    *afterHandshake = m_in.mid(m_headEnd);
    m_in.clear();
    m_inPos = m_msgStart = m_headEnd = 0;
    m_socket->setReadBufferSize(0);
    QTcpSocket *socket = m_socket;
    socket->setParent(nullptr); // the new owner adopts it
    m_socket = nullptr;
    deleteLater();
    return socket;
}

void VisitorConnection::lingerAndClose()
{
    // After an error or any answer that says `Connection: close`: FIN right after the answer, then
    // read and discard for a bounded time. Whatever was read or is still coming is never parsed,
    // answered or forwarded.
    m_phase = Phase::Draining;
    m_timer.stop();
    m_timerPurpose = TimerPurpose::None;
    m_in.clear();
    m_inPos = m_msgStart = 0;
    if (m_socket->state() != QTcpSocket::ConnectedState) {
        m_socket->abort();
        deleteLater();
        return;
    }
    auto *linger = new LingeringClose(m_socket, m_gateway->options().sendTimeoutMs, kDrainMs, kMaxDrainBytes, this);
    connect(linger, &LingeringClose::finished, this, [this] {
        m_phase = Phase::Closing;
        if (m_socket)
            m_socket->abort(); // everything we sent is out; unread input must not hold the socket
        deleteLater();
    });
}

void VisitorConnection::closeWhenIdle()
{
    m_closeWhenIdle = true;
    if (m_phase == Phase::Idle)
        closeAfterFlush();
}

void VisitorConnection::closeAfterFlush()
{
    m_phase = Phase::Closing;
    m_socket->disconnectFromHost(); // after the answer is flushed...
    // ...which a visitor that does not read would put off for ever.
    if (m_socket->state() != QAbstractSocket::UnconnectedState && unsentBytes() > 0)
        arm(TimerPurpose::Send, m_gateway->options().sendTimeoutMs);
}

} // namespace keyhole::proxy
