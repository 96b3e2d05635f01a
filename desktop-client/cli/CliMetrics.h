#pragma once

#include "ClientState.h"
#include "util/MetricsRegistry.h"

#include <QObject>

namespace keyhole::client {
class TunnelClient;
struct RequestRecord;
} // namespace keyhole::client

namespace keyhole::cli {

// keyhole-cli's --metrics-listen: counts what the tunnel reports (requests, answers the client gave
// itself, reconnects) and shows its state; the text is rendered per scrape only.
// A plain QObject (no signals of its own) so its connections end with it.
class CliMetrics : public QObject
{
public:
    explicit CliMetrics(const client::TunnelClient *tunnel, QObject *parent = nullptr);
    QByteArray render() const;

private:
    void onRequest(const client::RequestRecord &record);
    void onState(client::ClientState state);

    const client::TunnelClient *m_tunnel;
    util::MetricsRegistry m_registry;
    quint64 m_requests = 0;
    quint64 m_localErrors = 0;
    quint64 m_webSockets = 0;
    quint64 m_reconnects = 0;
    bool m_wasOnline = false;
};

} // namespace keyhole::cli
