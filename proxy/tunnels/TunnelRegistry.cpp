#include "tunnels/TunnelRegistry.h"

#include "bus/MessageBus.h"
#include "tunnels/TunnelSession.h"
#include "tunnels/TunnelLogging.h"

namespace keyhole::proxy {

TunnelRegistry::TunnelRegistry(MessageBus *bus, QObject *parent)
    : QObject(parent)
    , m_bus(bus)
{
    // With several instances, the newest registration may be on another one.
    connect(m_bus, &MessageBus::tunnelTakenElsewhere, this, [this](const QString &label) {
        if (TunnelSession *session = m_sessions.value(label)) {
            qCInfo(lcProxyTunnel).noquote() << "tunnel" << label << "registered again on another instance: replaced";
            session->replaced();
        }
    });
}

void TunnelRegistry::claim(const QString &label, TunnelSession *session)
{
    TunnelSession *previous = m_sessions.value(label);
    m_sessions.insert(label, session);
    m_bus->attachTunnel(label, session);
    if (previous && previous != session) {
        qCInfo(lcProxyTunnel).noquote() << "tunnel" << label
                                        << "registered again: the newer connection replaces the older";
        previous->replaced();
    }
}

void TunnelRegistry::release(const QString &label, TunnelSession *session)
{
    auto it = m_sessions.find(label);
    if (it == m_sessions.end() || it.value() != session)
        return;
    m_sessions.erase(it);
    m_bus->detachTunnel(label, session);
}

} // namespace keyhole::proxy
