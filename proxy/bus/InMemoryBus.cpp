#include "bus/InMemoryBus.h"

#include "bus/RequestIds.h"

namespace keyhole::proxy {

InMemoryBus::InMemoryBus(QObject *parent)
    : MessageBus(parent)
    , m_instanceId(RequestIds::newInstanceId())
{
}

QByteArray InMemoryBus::instanceId() const
{
    return m_instanceId;
}

void InMemoryBus::attachTunnel(const QString &label, TunnelSink *sink)
{
    m_tunnels.insert(label, sink);
}

void InMemoryBus::detachTunnel(const QString &label, TunnelSink *sink)
{
    // Only the current holder may detach: a replaced session going away must not remove its successor.
    auto it = m_tunnels.find(label);
    if (it != m_tunnels.end() && it.value() == sink)
        m_tunnels.erase(it);
}

void InMemoryBus::setVisitorSink(VisitorSink *sink)
{
    m_visitors = sink;
}

bool InMemoryBus::publishToTunnel(const QString &label, const protocol::Message &message)
{
    TunnelSink *sink = m_tunnels.value(label);
    if (!sink)
        return false;
    sink->deliverToTunnel(message);
    return true;
}

void InMemoryBus::replyToVisitor(const QByteArray &, const protocol::Message &message)
{
    if (m_visitors)
        m_visitors->deliverToVisitor(message);
}

void InMemoryBus::failVisitorExchange(const ExchangeFailure &failure)
{
    if (m_visitors)
        m_visitors->failExchange(failure);
}

bool InMemoryBus::congestedFor(const QString &label) const
{
    const TunnelSink *sink = m_tunnels.value(label);
    return sink && sink->congested();
}

int InMemoryBus::localTunnelCount() const
{
    return int(m_tunnels.size());
}

} // namespace keyhole::proxy
