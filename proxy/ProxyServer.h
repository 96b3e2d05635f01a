#pragma once

#include "ProxyConfig.h"
#include "bus/ProxyMetrics.h"
#include "util/MetricsRegistry.h"
#include "visitors/VisitorOptions.h"
#include "tunnels/TunnelOptions.h"

#include <QObject>
#include <QUrl>

#include <memory>
#include <optional>

namespace keyhole::crypto {
class RegistrationVerifier;
}
namespace keyhole::util {
class Clock;
class MetricsServer;
} // namespace keyhole::util

namespace keyhole::proxy {

class AuthorizedKeys;
class ConnectionBudget;
class ControlEndpoint;
class MessageBus;
class ProxyListener;
class TunnelRegistry;
class VisitorGateway;

// One proxy instance: the listener (plain or TLS), the visitor side, the tunnel side and the bus
// between them. Everything is a child or member; nothing outlives it.
class ProxyServer : public QObject
{
    Q_OBJECT

public:
    // `clock` (null: the system clock) times both sides' deadlines and the registration tokens' validity;
    // it must outlive the server.
    explicit ProxyServer(ProxyConfig config, QObject *parent = nullptr, const util::Clock *clock = nullptr);
    ~ProxyServer() override;

    // Loads keys and certificates and starts listening. False with *error set when it cannot.
    bool start(QString *error);
    quint16 port() const;
    QUrl publicUrl() const { return m_publicUrl; }
    int tunnelCount() const;
    // The Prometheus text of GET /metrics; the port of --metrics-listen (0: none).
    QByteArray metricsText() const;
    quint16 metricsPort() const;

    // SIGHUP: applies what `next` changes that can change while tunnels stay up (authorized keys,
    // TLS certificate and key, per-tunnel limits, log format) and logs what needs a restart.
    // Returns one line per change, applied or not, for the log and for tests.
    QStringList reload(const ProxyConfig &next);

    // Stops accepting, lets in-flight requests finish for the grace period, then closes every
    // tunnel with a reason. Emits stopped() when done.
    void shutdown();

Q_SIGNALS:
    void stopped();

private:
    bool setUpTls(QString *error);
    // The composition root: each part gets its own slice of the configuration.
    VisitorOptions visitorOptions() const;
    TunnelOptions tunnelOptions() const;
    void finishShutdown();
    void setUpMetrics();

    ProxyConfig m_config;
    const util::Clock *m_clock;
    QUrl m_publicUrl;
    ConnectionBudget *m_budget = nullptr; // every socket, for --max-connections
    ProxyListener *m_listener = nullptr;
    MessageBus *m_bus = nullptr;
    TunnelRegistry *m_registry = nullptr;
    VisitorGateway *m_visitors = nullptr;
    ControlEndpoint *m_control = nullptr;
    std::unique_ptr<crypto::RegistrationVerifier> m_verifier;
    std::unique_ptr<AuthorizedKeys> m_authorizedKeys;
    ProxyMetrics m_metrics;
    util::MetricsRegistry m_metricsRegistry;
    util::MetricsServer *m_metricsServer = nullptr;
    bool m_stopping = false;
    bool m_shutdownFinished = false;
};

} // namespace keyhole::proxy
