#include "tunnels/TunnelSession.h"

#include "tunnels/TunnelLogging.h"
#include "util/Clock.h"

// TunnelSession, continued: streamed bodies (HttpBody, HttpCredit, HttpCancel) both ways. The
// session relays them and keeps only counters (TunnelStream): a client is held to the window of each
// exchange and to --max-response-body, and an exchange whose body stops moving is cut on both ends.

namespace keyhole::proxy {

void TunnelSession::requestBodyToClient(const protocol::HttpBody &body, const protocol::Message &message)
{
    auto it = m_streams.find(body.id);
    if (it == m_streams.end() || !it->requestOpen)
        return; // cancelled or finished meanwhile
    it->lastMovedMs = m_context.clock->monotonicMs();
    if (body.end)
        it->requestOpen = false;
    // The visitor side keeps to the window, so this fails only past the channel's hard bound.
    if (!send(message)) {
        cancelBoth(body.id, QStringLiteral("the tunnel's client is not keeping up"));
        return;
    }
    if (body.end)
        settle(body.id);
}

void TunnelSession::creditToClient(const protocol::HttpCredit &credit, const protocol::Message &message)
{
    auto it = m_streams.find(credit.id);
    if (it == m_streams.end() || !it->responseOpen || credit.bytes <= 0)
        return;
    it->responseInFlight = qMax<qint64>(0, it->responseInFlight - credit.bytes);
    it->lastMovedMs = m_context.clock->monotonicMs();
    send(message);
}

void TunnelSession::cancelFromVisitor(const protocol::HttpCancel &cancel)
{
    if (m_upgrades.contains(cancel.id)) // upgrades end with WsTeardown
        return;
    const bool known = m_pending.remove(cancel.id) + m_streams.remove(cancel.id) > 0;
    if (known)
        send(cancel);
}

void TunnelSession::responseBodyFromClient(protocol::HttpBody &body)
{
    auto it = m_streams.find(body.id);
    if (it == m_streams.end() || !it->responseOpen) {
        // Late (cancelled, cut) or never announced: nothing waits for it, and nothing is kept.
        qCDebug(lcProxyTunnel) << "tunnel" << m_label << "sent a body for unknown exchange" << body.id;
        return;
    }
    const QByteArray id = body.id;
    if (body.data.size() > protocol::kBodyChunkBytes
        || it->responseInFlight + body.data.size() > protocol::kStreamWindowBytes) {
        qCWarning(lcProxyTunnel).noquote() << "tunnel" << m_label << "sent past the stream window of" << id;
        cancelBoth(id, QStringLiteral("The tunnel's client sent more than the stream window."));
        return;
    }
    it->responseInFlight += body.data.size();
    it->responseBytes += body.data.size();
    it->lastMovedMs = m_context.clock->monotonicMs();
    const qint64 maxResponse = m_context.options.maxResponseBodyBytes;
    if (maxResponse > 0 && it->responseBytes > maxResponse) {
        cancelBoth(id,
                   QStringLiteral("The local service's response is larger than this proxy accepts (%1 bytes).")
                       .arg(maxResponse));
        return;
    }
    if (body.end) {
        it->responseOpen = false;
        settle(id);
    }
    m_context.bus->replyToVisitor(id, std::move(body));
}

void TunnelSession::creditFromClient(protocol::HttpCredit &credit)
{
    auto it = m_streams.find(credit.id);
    if (it == m_streams.end() || !it->requestOpen || credit.bytes <= 0)
        return;
    it->lastMovedMs = m_context.clock->monotonicMs();
    const QByteArray id = credit.id;
    m_context.bus->replyToVisitor(id, std::move(credit));
}

void TunnelSession::cancelFromClient(protocol::HttpCancel &cancel)
{
    // Only for exchanges this session was given and still runs: no answer, the visitor side decides.
    if (m_upgrades.contains(cancel.id) || m_pending.remove(cancel.id) + m_streams.remove(cancel.id) == 0)
        return;
    qCDebug(lcProxyTunnel).noquote() << "tunnel" << m_label << "cancelled" << cancel.id << ":" << cancel.reason;
    const QByteArray id = cancel.id;
    m_context.bus->replyToVisitor(id, std::move(cancel));
}

void TunnelSession::cancelBoth(const QByteArray &id, const QString &reason)
{
    m_pending.remove(id);
    m_streams.remove(id);
    send(protocol::HttpCancel{id, reason});
    m_context.bus->replyToVisitor(id, protocol::HttpCancel{id, reason});
}

void TunnelSession::settle(const QByteArray &id)
{
    auto it = m_streams.find(id);
    if (it != m_streams.end() && !it->open() && !m_pending.contains(id))
        m_streams.erase(it);
}

void TunnelSession::cutIdleStreams(qint64 nowMs)
{
    // The visitor side cuts its end on time; this is for an end that cannot (its instance is gone).
    QList<QByteArray> idle;
    for (auto it = m_streams.cbegin(); it != m_streams.cend(); ++it) {
        if (it->open() && nowMs - it->lastMovedMs > m_context.options.bodyIdleTimeoutMs)
            idle.append(it.key());
    }
    for (const QByteArray &id : idle)
        cancelBoth(
            id,
            QStringLiteral("The body moved no byte for %1 seconds.").arg(m_context.options.bodyIdleTimeoutMs / 1000));
}

} // namespace keyhole::proxy
