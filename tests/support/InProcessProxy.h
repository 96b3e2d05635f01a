#pragma once

#include "FakeTunnelClient.h"
#include "ProxyServer.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

#include <memory>

namespace keyhole::crypto {
class KeyPair;
}
namespace keyhole::util {
class Clock;
}

// The proxy in process on 127.0.0.1, for tests that drive it with FakeTunnelClient and RawVisitor:
// owns one ProxyServer at a time (-> reaches it) and brings tunnel clients online against it.
class InProcessProxy
{
public:
    InProcessProxy() = default;
    Q_DISABLE_COPY(InProcessProxy)

    // Listens on 127.0.0.1, port 0.
    static keyhole::proxy::ProxyConfig baseConfig();

    // Replaces any running server; false (with the reason logged) when it does not listen. `clock`
    // (the system's when null) must outlive the server.
    bool start(const keyhole::proxy::ProxyConfig &config, const keyhole::util::Clock *clock = nullptr);
    void stop() { m_server.reset(); }

    keyhole::proxy::ProxyServer *operator->() const { return m_server.get(); }
    keyhole::proxy::ProxyServer *server() const { return m_server.get(); }

    // A client with a new key, connected and registered (as `name`); null when no RegistrationResponse
    // (accepted or not) came within 5 s.
    std::unique_ptr<FakeTunnelClient> onlineClient(const QString &name = {}) const;
    // start() and onlineClient(): null when either did not come up.
    std::unique_ptr<FakeTunnelClient> startWithClient(const keyhole::proxy::ProxyConfig &config);

    // "<label>.localhost:<port>", the Host a visitor of that tunnel sends.
    QByteArray hostFor(const keyhole::crypto::KeyPair &key, const QString &name = {}) const;
    QByteArray hostFor(const FakeTunnelClient &client, const QString &name = {}) const;
    // ws://127.0.0.1:<port>/proxy/request/<label><rest>: the tunnel by path, for QWebSocket visitors.
    QUrl wsUrl(const keyhole::crypto::KeyPair &key, const char *rest) const;

private:
    std::unique_ptr<keyhole::proxy::ProxyServer> m_server;
};
