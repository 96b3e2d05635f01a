#pragma once

#include "util/MetricsRegistry.h"

#include <QtGlobal>

namespace keyhole::proxy {

// The proxy's counters, kept as plain integers by the parts that see the events (visitors, tunnels,
// the listener) and read only when /metrics is scraped. One per ProxyServer; single-threaded like
// the rest of the proxy, so no atomics. The gauges (tunnels online, open connections, bus state)
// are read from their owners at scrape time instead (ProxyServer registers them).
struct ProxyMetrics {
    enum Route { RouteHost, RoutePath, RouteWebSocket, RouteProxy, RouteCount };
    // The order of crypto::RegistrationVerifier::Outcome, then the proxy's own refusals.
    enum Registration {
        RegistrationAccepted,
        RegistrationMalformed,
        RegistrationBadSignature,
        RegistrationWrongAudience,
        RegistrationExpired,
        RegistrationNotYetValid,
        RegistrationUnauthorized,
        RegistrationReplayed,
        RegistrationBusy,
        RegistrationVersion,
        RegistrationCount
    };
    enum Refusal {
        RefusedPending,     // --max-pending
        RefusedWebSockets,  // --max-websockets
        RefusedBodies,      // streamed bodies in flight
        RefusedClientSlow,  // the client's control channel is congested
        RefusedConnections, // --max-connections
        RefusedCount
    };

    void countRequest(Route route, int status, double seconds)
    {
        const int statusClass = qBound(1, status / 100, 5) - 1;
        ++requests[route][statusClass];
        requestDuration.observe(seconds);
    }

    quint64 requests[RouteCount][5] = {};
    util::MetricsRegistry::Histogram requestDuration{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30};
    quint64 registrations[RegistrationCount] = {};
    quint64 visitorConnections = 0;
    quint64 receivedBytes = 0;
    quint64 sentBytes = 0;
    quint64 webSocketOpens = 0;
    quint64 webSocketMessagesToService = 0;
    quint64 webSocketMessagesToVisitor = 0;
    quint64 rateLimited = 0;
    quint64 refused[RefusedCount] = {};

    // The counters above into `registry`, which must not outlive this.
    void registerIn(util::MetricsRegistry &registry) const;

    // Where parts built without a server (unit tests) count: nobody reads it.
    static ProxyMetrics &unused();
};

} // namespace keyhole::proxy
