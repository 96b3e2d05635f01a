#include "CliMetrics.h"

#include "RequestRecord.h"
#include "TunnelClient.h"
#include "util/MetricsRenderer.h"

namespace keyhole::cli {

namespace {
const client::ClientState kStates[] = {
    client::ClientState::Offline,  client::ClientState::Connecting,         client::ClientState::Registering,
    client::ClientState::Online,   client::ClientState::WaitingToReconnect, client::ClientState::Refused,
    client::ClientState::Replaced,
};
} // namespace

CliMetrics::CliMetrics(const client::TunnelClient *tunnel, QObject *parent)
    : QObject(parent)
    , m_tunnel(tunnel)
{
    m_registry.addCounter("keyhole_cli_requests_total", "Requests the tunnel carried to the local service.", {},
                          &m_requests);
    m_registry.addCounter("keyhole_cli_local_errors_total",
                          "Requests the client answered itself (502, 504...) because the local service did not.", {},
                          &m_localErrors);
    m_registry.addCounter("keyhole_cli_websockets_total", "WebSockets the local service accepted.", {}, &m_webSockets);
    m_registry.addCounter("keyhole_cli_reconnects_total", "Times the tunnel went back online after losing the proxy.",
                          {}, &m_reconnects);
    for (client::ClientState state : kStates) {
        m_registry.addGauge("keyhole_cli_state", "1 for the tunnel's current state, 0 for the others.",
                            QByteArray("state=\"") + client::clientStateName(state) + '"',
                            [this, state] { return m_tunnel->state() == state ? 1.0 : 0.0; });
    }
    connect(tunnel, &client::TunnelClient::requestFinished, this, &CliMetrics::onRequest);
    connect(tunnel, &client::TunnelClient::webSocketActivity, this, [this](const client::RequestRecord &record) {
        if (record.wsEvent == client::RequestRecord::WsEvent::Opened)
            ++m_webSockets;
    });
    connect(tunnel, &client::TunnelClient::stateChanged, this, &CliMetrics::onState);
}

QByteArray CliMetrics::render() const
{
    return util::MetricsRenderer::render(m_registry);
}

void CliMetrics::onRequest(const client::RequestRecord &record)
{
    ++m_requests;
    if (!record.error.isEmpty())
        ++m_localErrors;
}

void CliMetrics::onState(client::ClientState state)
{
    if (state != client::ClientState::Online)
        return;
    if (m_wasOnline)
        ++m_reconnects;
    m_wasOnline = true;
}

} // namespace keyhole::cli
