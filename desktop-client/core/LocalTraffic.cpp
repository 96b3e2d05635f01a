#include "LocalTraffic.h"

#include "LocalForwarder.h"
#include "LocalWebSocketBridge.h"

#include <climits>

namespace keyhole::client {

LocalTraffic::LocalTraffic(QObject *parent)
    : QObject(parent)
{
    m_webSockets = new LocalWebSocketBridge(LocalWebSocketBridge::Options(), this);
    connect(m_webSockets, &LocalWebSocketBridge::responded, this,
            [this](const protocol::WsResponse &response) { Q_EMIT messageForProxy(response); });
    connect(m_webSockets, &LocalWebSocketBridge::messageForProxy, this,
            [this](const protocol::WsMessage &message) { Q_EMIT messageForProxy(message); });
    connect(m_webSockets, &LocalWebSocketBridge::tornDown, this,
            [this](const protocol::WsTeardown &teardown) { Q_EMIT messageForProxy(teardown); });
    connect(m_webSockets, &LocalWebSocketBridge::activity, this, &LocalTraffic::webSocketActivity);
}

LocalTraffic::~LocalTraffic()
{
    m_webSockets->disconnect(this);
    if (m_forwarder)
        m_forwarder->disconnect(this);
}

int LocalTraffic::localTimeoutMs(qint64 proxyTimeoutMs)
{
    if (proxyTimeoutMs <= 0)
        return kDefaultLocalTimeoutMs;
    return static_cast<int>(qMin<qint64>(qMax<qint64>(1000, proxyTimeoutMs - kTimeoutMarginMs), INT_MAX));
}

void LocalTraffic::configure(const ClientSettings &settings, const QList<QSslCertificate> &caCertificates,
                             const TunnelInfo &info)
{
    LocalForwarder::Options options;
    options.target = settings.target;
    options.hostHeader = settings.hostHeader;
    options.maxConcurrent = settings.maxConcurrentLocal;
    options.extraCaCertificates = caCertificates;
    options.timeoutMs = localTimeoutMs(info.requestTimeoutMs);
    if (m_forwarder) {
        m_forwarder->disconnect(this);
        m_forwarder->cancelAll();
        m_forwarder->deleteLater();
    }
    m_forwarder = new LocalForwarder(options, this);
    connect(m_forwarder, &LocalForwarder::messageForProxy, this, &LocalTraffic::messageForProxy);
    connect(m_forwarder, &LocalForwarder::requestFinished, this, &LocalTraffic::requestFinished);

    LocalWebSocketBridge::Options wsOptions;
    wsOptions.target = options.target;
    wsOptions.hostHeader = options.hostHeader; // the same Host for WebSockets as for plain requests
    wsOptions.extraCaCertificates = options.extraCaCertificates;
    wsOptions.handshakeTimeoutMs = options.timeoutMs;
    m_webSockets->setOptions(wsOptions);
    // Only an accepted registration fills `info`; before one the limits are 0 (not said).
    if (info.isValid())
        setLimits(info);
}

void LocalTraffic::setLimits(const TunnelInfo &info)
{
    const int timeout = localTimeoutMs(info.requestTimeoutMs);
    m_forwarder->setLimits(info.maxRequestBodyBytes, info.maxResponseBodyBytes, timeout);
    // The proxy's WebSocket message limit defaults to its response body limit; without one the
    // bridge keeps its own bound.
    m_webSockets->setLimits(info.maxResponseBodyBytes, timeout);
}

void LocalTraffic::closeAll()
{
    m_forwarder->cancelAll();
    m_webSockets->closeAll(websocket::CloseGoingAway, QStringLiteral("going away"));
}

} // namespace keyhole::client
