#pragma once

#include "util/Logging.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>
#include <QUrl>

namespace keyhole::proxy {

// Everything the proxy can be told, with the defaults a public server should start with.
struct ProxyConfig {
    QHostAddress listenAddress = QHostAddress::Any;
    quint16 listenPort = 8080;
    QString domain = QStringLiteral("localhost");
    QUrl publicUrl; // empty: derived from domain, TLS and the port actually bound
    QString tlsCertFile;
    QString tlsKeyFile;
    QString authorizedKeysFile;
    QList<QPair<QHostAddress, int>> trustedProxies; // subnets whose X-Forwarded-* we keep
    // /proxy/request/<label>/... on the proxy's own host reaches a tunnel too. All tunnels then
    // share one origin (cookies, localStorage, service workers): README, "Path routing".
    bool pathRouting = true;

    int requestTimeoutMs = 30'000; // bounds the wait for a response's head only; bodies stream on
    // A body that moves no byte either way for this long is cut on both ends (HttpCancel).
    int bodyIdleTimeoutMs = 120'000;
    // Bodies are streamed, so these bound what passes, not what is held (0: no limit). --max-body sets both.
    qint64 maxRequestBodyBytes = 100 * 1024 * 1024;
    qint64 maxResponseBodyBytes = 0;
    qsizetype maxHeadBytes = 32 * 1024;
    int headTimeoutMs = 10'000;
    int maxHeaders = 100;
    qsizetype maxUrlBytes = 8 * 1024;
    int idleTimeoutMs = 60'000;
    // Any peer (visitor, visitor WebSocket, client) that takes none of its pending output for this long is cut.
    int sendTimeoutMs = 60'000;
    int maxConnections = 10'000; // every socket: visitors, WebSockets, control channels, TLS handshakes
    int maxPendingPerTunnel = 1'000;
    qint64 maxWsMessageBytes = 512'000; // --max-ws-message: a WebSocket message is held whole
    int maxWebSocketsPerTunnel = 256;
    int wsKeepAliveMs = 30'000; // ping visitor WebSockets this often; cut them after 2.5 intervals of silence
    // Requests (and WebSocket openings) a tunnel may receive per second, on average...
    double rateLimitPerSec = 1'000;
    // ...and at once: a dev server's page of 2,000 modules loads twice in a row without a 429.
    double rateBurst = 5'000;
    qint64 wsBytesPerSec = 0; // visitor WebSocket bytes a tunnel may receive per second; 0 = no limit
    int pingIntervalMs = 10'000;
    int tunnelTimeoutMs = 30'000;
    int registrationTimeoutMs = 10'000;
    int shutdownGraceMs = 5'000;
    bool jsonLogs = false;
    util::LogLevel logLevel = util::LogLevel::Info;

    // Scale-out (docs/SCALE-OUT.md): empty redisUrl keeps the in-memory bus of a single instance.
    QString redisUrl;
    QByteArray instanceId;   // empty: random per start
    int redisTtlMs = 10'000; // owner keys live this long without renewal

    // GET /metrics: on a listener of its own when set, else on the proxy's own host.
    bool metricsListener = false;
    QHostAddress metricsAddress = QHostAddress::LocalHost;
    quint16 metricsPort = 0;

    QString configFile; // --config: read again on SIGHUP

    bool tlsEnabled() const { return !tlsCertFile.isEmpty(); }
    // The public URL with the port actually bound filled in when it was derived.
    QUrl effectivePublicUrl(quint16 boundPort) const;
    bool isTrustedProxy(const QHostAddress &address) const;
};

} // namespace keyhole::proxy
