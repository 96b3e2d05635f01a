#pragma once

#include <QString>

namespace keyhole::proxy {

// What the tunnel side needs to know, and nothing else: ProxyServer fills it from ProxyConfig,
// so this part neither sees the visitor side's settings nor depends on the command line.
struct TunnelOptions {
    QString domain;

    qint64 maxRequestBodyBytes = 0;  // 0: no limit
    qint64 maxResponseBodyBytes = 0; // 0: no limit
    qint64 maxWsMessageBytes = 0;
    int maxPendingPerTunnel = 0;
    int maxWebSocketsPerTunnel = 0;

    double rateLimitPerSec = 0;
    double rateBurst = 0;
    qint64 wsBytesPerSec = 0; // 0 = no limit

    int requestTimeoutMs = 0;
    int bodyIdleTimeoutMs = 0;
    int sendTimeoutMs = 0;
    int registrationTimeoutMs = 0;
    int pingIntervalMs = 0;
    int tunnelTimeoutMs = 0;
};

} // namespace keyhole::proxy
