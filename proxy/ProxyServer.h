#pragma once

#include "ProxyConfig.h"
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
}

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
    bool m_stopping = false;
    bool m_shutdownFinished = false;
};

} // namespace keyhole::proxy
