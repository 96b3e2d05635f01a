#pragma once

#include "ClientSettings.h"
#include "RequestRecord.h"
#include "TunnelInfo.h"
#include "protocol/Messages.h"

#include <QList>
#include <QObject>
#include <QSslCertificate>

namespace keyhole::client {

class LocalForwarder;
class LocalWebSocketBridge;

// What one tunnel carries to the local service: the HTTP exchanges (LocalForwarder) and the
// WebSockets (LocalWebSocketBridge), built from the settings and the limits the proxy gave, with
// everything they say to the proxy merged into messageForProxy(). Lives as long as its TunnelClient;
// closeAll() ends every exchange when the control connection goes, so nothing of theirs reaches a
// later one.
class LocalTraffic : public QObject
{
    Q_OBJECT

public:
    static constexpr int kDefaultLocalTimeoutMs = 28000;
    static constexpr int kTimeoutMarginMs = 2000; // answer before the proxy gives up on us

    explicit LocalTraffic(QObject *parent = nullptr);
    ~LocalTraffic() override;

    LocalForwarder *forwarder() const { return m_forwarder; }
    LocalWebSocketBridge *webSockets() const { return m_webSockets; }

    // New settings: a new forwarder (running exchanges are dropped) with the limits of `info`.
    void configure(const ClientSettings &settings, const QList<QSslCertificate> &caCertificates,
                   const TunnelInfo &info);
    // The limits of a (new) registration, for exchanges that start afterwards.
    void setLimits(const TunnelInfo &info);
    // The control connection is gone: every exchange and WebSocket ends without a word to the proxy.
    void closeAll();

    // How long the local service may take to answer, given the proxy's request timeout (0: not said).
    static int localTimeoutMs(qint64 proxyTimeoutMs);

Q_SIGNALS:
    void messageForProxy(const keyhole::protocol::Message &message);
    void requestFinished(const keyhole::client::RequestRecord &record);
    void webSocketActivity(const keyhole::client::RequestRecord &record);

private:
    LocalForwarder *m_forwarder = nullptr;
    LocalWebSocketBridge *m_webSockets = nullptr;
};

} // namespace keyhole::client
