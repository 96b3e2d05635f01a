// ProxyServer::reload(): what SIGHUP can change while tunnels stay up.
#include "ProxyServer.h"

#include "ProxyLogging.h"
#include "net/ProxyListener.h"
#include "tunnels/AuthorizedKeys.h"
#include "tunnels/ControlEndpoint.h"
#include "util/Logging.h"

namespace keyhole::proxy {

namespace {

// Everything a reload does not apply, by the flag that sets it.
QStringList needingRestart(const ProxyConfig &now, const ProxyConfig &next)
{
    struct Field {
        const char *flag;
        bool differs;
    };
    const Field fields[] = {
        {"listen", now.listenAddress != next.listenAddress || now.listenPort != next.listenPort},
        {"domain", now.domain != next.domain},
        {"public-url", now.publicUrl != next.publicUrl},
        {"trusted-proxy", now.trustedProxies != next.trustedProxies},
        {"path-routing", now.pathRouting != next.pathRouting},
        {"request-timeout", now.requestTimeoutMs != next.requestTimeoutMs},
        {"body-idle-timeout", now.bodyIdleTimeoutMs != next.bodyIdleTimeoutMs},
        {"max-request-body", now.maxRequestBodyBytes != next.maxRequestBodyBytes},
        {"max-response-body", now.maxResponseBodyBytes != next.maxResponseBodyBytes},
        {"max-head-bytes", now.maxHeadBytes != next.maxHeadBytes},
        {"head-timeout", now.headTimeoutMs != next.headTimeoutMs},
        {"max-headers", now.maxHeaders != next.maxHeaders},
        {"max-url-bytes", now.maxUrlBytes != next.maxUrlBytes},
        {"idle-timeout", now.idleTimeoutMs != next.idleTimeoutMs},
        {"send-timeout", now.sendTimeoutMs != next.sendTimeoutMs},
        {"max-connections", now.maxConnections != next.maxConnections},
        {"max-ws-message", now.maxWsMessageBytes != next.maxWsMessageBytes},
        {"ping-interval", now.pingIntervalMs != next.pingIntervalMs},
        {"tunnel-timeout", now.tunnelTimeoutMs != next.tunnelTimeoutMs},
        {"registration-timeout", now.registrationTimeoutMs != next.registrationTimeoutMs},
        {"redis", now.redisUrl != next.redisUrl},
        {"instance-id", now.instanceId != next.instanceId},
        {"redis-ttl", now.redisTtlMs != next.redisTtlMs},
        {"metrics-listen",
         now.metricsListener != next.metricsListener || now.metricsAddress != next.metricsAddress
             || now.metricsPort != next.metricsPort},
        {"authorized-keys", now.authorizedKeysFile.isEmpty() != next.authorizedKeysFile.isEmpty()},
        {"tls-cert", now.tlsEnabled() != next.tlsEnabled()},
    };
    QStringList names;
    for (const Field &field : fields) {
        if (field.differs)
            names.append(QStringLiteral("--") + QLatin1String(field.flag));
    }
    return names;
}

} // namespace

QStringList ProxyServer::reload(const ProxyConfig &next)
{
    QStringList changes;
    auto applied = [&changes](const QString &what) {
        qCInfo(lcProxy).noquote() << "reload:" << what;
        changes.append(what);
    };

    // The file is read again even under the same name: that is what an edit looks like.
    if (m_authorizedKeys && !next.authorizedKeysFile.isEmpty()) {
        QString error;
        auto keys = AuthorizedKeys::load(next.authorizedKeysFile, &error);
        if (!keys) {
            qCWarning(lcProxy).noquote() << "reload: keeping the authorized keys loaded before:" << error;
        } else if (!(*keys == *m_authorizedKeys) || next.authorizedKeysFile != m_config.authorizedKeysFile) {
            // Sessions hold a pointer to this object: its contents change, not its address. Tunnels
            // already online stay up; the keys apply to registrations from now on.
            const qsizetype before = m_authorizedKeys->size();
            *m_authorizedKeys = std::move(*keys);
            m_config.authorizedKeysFile = next.authorizedKeysFile;
            applied(QStringLiteral("--authorized-keys: %1 keys (were %2)").arg(m_authorizedKeys->size()).arg(before));
        }
    }

    if (m_config.tlsEnabled() && next.tlsEnabled()) {
        // A renewed certificate under the same names is the common case: always read them again.
        const ProxyConfig previous = m_config;
        m_config.tlsCertFile = next.tlsCertFile;
        m_config.tlsKeyFile = next.tlsKeyFile;
        QString error;
        if (setUpTls(&error)) {
            applied(QStringLiteral("--tls-cert: certificate and key read again from %1 and %2 for new connections")
                        .arg(m_config.tlsCertFile, m_config.tlsKeyFile));
        } else {
            m_config = previous;
            qCWarning(lcProxy).noquote() << "reload: keeping the TLS certificate loaded before:" << error;
        }
    }

    struct Limit {
        const char *flag;
        double now, next;
    };
    const Limit limits[] = {
        {"rate-limit", m_config.rateLimitPerSec, next.rateLimitPerSec},
        {"rate-burst", m_config.rateBurst, next.rateBurst},
        {"ws-rate", double(m_config.wsBytesPerSec), double(next.wsBytesPerSec)},
        {"max-pending", double(m_config.maxPendingPerTunnel), double(next.maxPendingPerTunnel)},
        {"max-websockets", double(m_config.maxWebSocketsPerTunnel), double(next.maxWebSocketsPerTunnel)},
    };
    bool limitsChanged = false;
    for (const Limit &limit : limits) {
        if (limit.now != limit.next) {
            applied(QStringLiteral("--%1 %2 (was %3)").arg(QLatin1String(limit.flag)).arg(limit.next).arg(limit.now));
            limitsChanged = true;
        }
    }
    if (limitsChanged) {
        m_config.rateLimitPerSec = next.rateLimitPerSec;
        m_config.rateBurst = next.rateBurst;
        m_config.wsBytesPerSec = next.wsBytesPerSec;
        m_config.maxPendingPerTunnel = next.maxPendingPerTunnel;
        m_config.maxWebSocketsPerTunnel = next.maxWebSocketsPerTunnel;
        if (m_control)
            m_control->applyLimits(tunnelOptions());
    }

    if (m_config.jsonLogs != next.jsonLogs) {
        m_config.jsonLogs = next.jsonLogs;
        util::installLogFormat(next.jsonLogs ? util::LogFormat::Json : util::LogFormat::Text);
        applied(QStringLiteral("--log-format %1").arg(next.jsonLogs ? QStringLiteral("json") : QStringLiteral("text")));
    }

    if (m_config.logLevel != next.logLevel) {
        static const char *const names[] = {"debug", "info", "warning"};
        // Said at the more verbose of the two levels, or the line itself would not be seen.
        const bool quieter = int(next.logLevel) > int(m_config.logLevel);
        if (!quieter)
            util::installLogLevel(next.logLevel);
        applied(QStringLiteral("--log-level %1").arg(QLatin1String(names[int(next.logLevel)])));
        if (quieter)
            util::installLogLevel(next.logLevel);
        m_config.logLevel = next.logLevel;
    }

    for (const QString &flag : needingRestart(m_config, next)) {
        const QString line = QStringLiteral("%1 changed: it needs a restart, kept as it was").arg(flag);
        qCWarning(lcProxy).noquote() << "reload:" << line;
        changes.append(line);
    }
    if (changes.isEmpty())
        qCInfo(lcProxy) << "reload: nothing changed";
    return changes;
}

} // namespace keyhole::proxy
