#include "ProxyServer.h"

#include "bus/InMemoryBus.h"
#include "bus/redis/RedisBus.h"
#include "crypto/RegistrationVerifier.h"
#include "visitors/VisitorGateway.h"
#include "bus/ConnectionBudget.h"
#include "net/ProxyListener.h"
#include "tunnels/AuthorizedKeys.h"
#include "tunnels/ControlEndpoint.h"
#include "tunnels/TunnelRegistry.h"
#include "util/Clock.h"
#include "util/MetricsRenderer.h"
#include "util/MetricsServer.h"
#include "ProxyLogging.h"

#include <QFile>
#include <QSslCertificate>
#include <QSslKey>
#include <QSslSocket>
#include <QTimer>

namespace keyhole::proxy {

ProxyServer::ProxyServer(ProxyConfig config, QObject *parent, const util::Clock *clock)
    : QObject(parent)
    , m_config(std::move(config))
    , m_clock(clock ? clock : util::Clock::system())
{
}

ProxyServer::~ProxyServer()
{
    // Sessions and connections talk to the registry and the bus while they go: delete users first.
    delete m_control;
    delete m_visitors;
    delete m_registry;
    delete m_bus;
}

bool ProxyServer::start(QString *error)
{
    if (!m_config.authorizedKeysFile.isEmpty()) {
        auto keys = AuthorizedKeys::load(m_config.authorizedKeysFile, error);
        if (!keys)
            return false;
        m_authorizedKeys = std::make_unique<AuthorizedKeys>(std::move(*keys));
        qCInfo(lcProxy) << "registration limited to" << m_authorizedKeys->size() << "authorized keys";
    } else {
        qCWarning(lcProxy) << "registration is open: any key may register a tunnel (use --authorized-keys to limit it)";
    }

    m_budget = new ConnectionBudget(m_config.maxConnections, this);
    m_listener = new ProxyListener(m_budget, this);
    m_listener->setRefusalCounter(&m_metrics.refused[ProxyMetrics::RefusedConnections]);
    if (m_config.tlsEnabled() && !setUpTls(error))
        return false;
    if (!m_listener->start(m_config.listenAddress, m_config.listenPort)) {
        *error = QStringLiteral("cannot listen on %1:%2: %3")
                     .arg(m_config.listenAddress.toString())
                     .arg(m_config.listenPort)
                     .arg(m_listener->errorString());
        return false;
    }
    m_publicUrl = m_config.effectivePublicUrl(m_listener->serverPort());

    if (m_config.redisUrl.isEmpty()) {
        m_bus = new InMemoryBus(this);
    } else {
        RedisBusOptions options;
        options.url = *RedisUrl::parse(m_config.redisUrl, error); // checked by the command line
        options.instanceId = m_config.instanceId;
        options.ownershipTtlMs = m_config.redisTtlMs;
        options.requestTimeoutMs = m_config.requestTimeoutMs;
        options.maxMessageBytes = qMax(qMax(protocol::kInlineBodyBytes, protocol::kBodyChunkBytes),
                                       m_config.maxWsMessageBytes);
        options.bodyIdleTimeoutMs = m_config.bodyIdleTimeoutMs;
        auto *bus = new RedisBus(options, this);
        bus->start(); // serves local tunnels while it (re)connects
        m_bus = bus;
    }
    m_registry = new TunnelRegistry(m_bus, this);
    m_verifier = std::make_unique<crypto::RegistrationVerifier>(m_publicUrl.toString(), m_clock);
    m_verifier->setSharedReplayCache(m_bus->sharedReplayCache());
    m_visitors = new VisitorGateway(visitorOptions(), m_publicUrl, m_bus, this);
    m_visitors->setConnectionBudget(m_budget);

    TunnelContext context;
    context.options = tunnelOptions();
    context.publicUrl = m_publicUrl;
    context.verifier = m_verifier.get();
    context.authorizedKeys = m_authorizedKeys.get();
    context.registry = m_registry;
    context.bus = m_bus;
    context.clock = m_clock;
    context.metrics = &m_metrics;
    m_control = new ControlEndpoint(context, this);

    setUpMetrics();
    if (m_config.metricsListener) {
        m_metricsServer = new util::MetricsServer([this] { return metricsText(); }, this);
        if (!m_metricsServer->listen(m_config.metricsAddress, m_config.metricsPort, error))
            return false;
        m_visitors->setMetrics(&m_metrics, {}); // not on the public host as well
    } else {
        m_visitors->setMetrics(&m_metrics, [this] { return metricsText(); });
    }

    connect(m_visitors, &VisitorGateway::controlChannelRequested, m_control, &ControlEndpoint::adopt);
    connect(m_listener, &ProxyListener::connectionReady, this,
            [this](QTcpSocket *socket) { m_visitors->acceptConnection(socket, m_config.tlsEnabled()); });
    return true;
}

VisitorOptions ProxyServer::visitorOptions() const
{
    VisitorOptions options;
    options.domain = m_config.domain;
    options.pathRouting = m_config.pathRouting;
    options.trustedProxies = m_config.trustedProxies;
    options.maxHeadBytes = m_config.maxHeadBytes;
    options.maxHeaders = m_config.maxHeaders;
    options.maxUrlBytes = m_config.maxUrlBytes;
    options.maxRequestBodyBytes = m_config.maxRequestBodyBytes;
    options.maxWsMessageBytes = m_config.maxWsMessageBytes;
    options.bodyIdleTimeoutMs = m_config.bodyIdleTimeoutMs;
    options.headTimeoutMs = m_config.headTimeoutMs;
    options.idleTimeoutMs = m_config.idleTimeoutMs;
    options.requestTimeoutMs = m_config.requestTimeoutMs;
    options.sendTimeoutMs = m_config.sendTimeoutMs;
    options.wsKeepAliveMs = m_config.wsKeepAliveMs;
    options.clock = m_clock;
    return options;
}

TunnelOptions ProxyServer::tunnelOptions() const
{
    TunnelOptions options;
    options.domain = m_config.domain;
    options.maxRequestBodyBytes = m_config.maxRequestBodyBytes;
    options.maxResponseBodyBytes = m_config.maxResponseBodyBytes;
    options.maxWsMessageBytes = m_config.maxWsMessageBytes;
    options.bodyIdleTimeoutMs = m_config.bodyIdleTimeoutMs;
    options.maxPendingPerTunnel = m_config.maxPendingPerTunnel;
    options.maxWebSocketsPerTunnel = m_config.maxWebSocketsPerTunnel;
    options.rateLimitPerSec = m_config.rateLimitPerSec;
    options.rateBurst = m_config.rateBurst;
    options.wsBytesPerSec = m_config.wsBytesPerSec;
    options.requestTimeoutMs = m_config.requestTimeoutMs;
    options.sendTimeoutMs = m_config.sendTimeoutMs;
    options.registrationTimeoutMs = m_config.registrationTimeoutMs;
    options.pingIntervalMs = m_config.pingIntervalMs;
    options.tunnelTimeoutMs = m_config.tunnelTimeoutMs;
    return options;
}

bool ProxyServer::setUpTls(QString *error)
{
    QFile certFile(m_config.tlsCertFile);
    QFile keyFile(m_config.tlsKeyFile);
    if (!certFile.open(QIODevice::ReadOnly) || !keyFile.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read the TLS certificate or key: %1")
                     .arg(certFile.isOpen() ? keyFile.errorString() : certFile.errorString());
        return false;
    }
    const QList<QSslCertificate> chain = QSslCertificate::fromDevice(&certFile, QSsl::Pem);
    const QByteArray keyPem = keyFile.readAll();
    QSslKey key(keyPem, QSsl::Ec, QSsl::Pem);
    if (key.isNull())
        key = QSslKey(keyPem, QSsl::Rsa, QSsl::Pem);
    if (chain.isEmpty() || key.isNull()) {
        *error = QStringLiteral("%1 holds no PEM certificate or %2 no PEM EC/RSA key")
                     .arg(m_config.tlsCertFile, m_config.tlsKeyFile);
        return false;
    }
    QSslConfiguration tls = QSslConfiguration::defaultConfiguration();
    tls.setLocalCertificateChain(chain);
    tls.setPrivateKey(key);
    tls.setPeerVerifyMode(QSslSocket::VerifyNone); // visitors and clients don't present certificates
    // The handshake is part of the request's head: it gets the same time.
    m_listener->setTls(tls, m_config.headTimeoutMs);
    return true;
}

void ProxyServer::setUpMetrics()
{
    m_metrics.registerIn(m_metricsRegistry);
    util::MetricsRegistry &r = m_metricsRegistry;
    r.addGauge("keyhole_tunnels_online", "Tunnels registered on this instance.", {},
               [this] { return double(m_registry->count()); });
    r.addGauge("keyhole_visitor_connections", "Open visitor connections (HTTP; WebSockets are counted apart).", {},
               [this] { return double(m_visitors->connectionCount()); });
    r.addGauge("keyhole_websockets_open", "Open visitor WebSockets.", {},
               [this] { return double(m_visitors->webSocketCount()); });
    r.addGauge("keyhole_open_sockets", "Every open socket, as --max-connections counts them.", {},
               [this] { return double(m_budget->used()); });
    r.addGauge("keyhole_bus_up",
               "1 when this instance can reach the others (always 1 without --redis), 0 when its Redis bus is down.",
               {}, [this] { return m_visitors->healthy() ? 1.0 : 0.0; });
    r.addGauge("keyhole_redis_enabled", "1 when instances share tunnels through Redis (--redis).", {},
               [this] { return m_config.redisUrl.isEmpty() ? 0.0 : 1.0; });
}

QByteArray ProxyServer::metricsText() const
{
    return util::MetricsRenderer::render(m_metricsRegistry);
}

quint16 ProxyServer::metricsPort() const
{
    return m_metricsServer ? m_metricsServer->port() : 0;
}

quint16 ProxyServer::port() const
{
    return m_listener ? m_listener->serverPort() : 0;
}

int ProxyServer::tunnelCount() const
{
    return m_registry ? m_registry->count() : 0;
}

void ProxyServer::shutdown()
{
    if (m_stopping)
        return;
    m_stopping = true;
    qCInfo(lcProxy) << "shutting down: finishing" << m_visitors->pendingCount() << "requests in flight";
    m_listener->stop();
    connect(m_visitors, &VisitorGateway::idle, this, &ProxyServer::finishShutdown, Qt::QueuedConnection);
    QTimer::singleShot(m_config.shutdownGraceMs, this, &ProxyServer::finishShutdown);
    m_visitors->beginShutdown();
}

void ProxyServer::finishShutdown()
{
    if (m_shutdownFinished)
        return;
    m_shutdownFinished = true;
    m_control->shutdownSessions();
    // Sessions close asynchronously; give the close frames a moment to leave.
    QTimer::singleShot(200, this, &ProxyServer::stopped);
}

} // namespace keyhole::proxy
