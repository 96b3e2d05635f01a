#pragma once

#include "AppSettings.h"
#include "ClientState.h"
#include "ConnectionProblem.h"
#include "RequestRecord.h"
#include "StatePresentation.h"
#include "TunnelInfo.h"
#include "crypto/KeyPair.h"

#include <QDateTime>
#include <QNetworkInformation>
#include <QObject>
#include <QTimer>

namespace keyhole::client {
class TunnelClient;
}

namespace keyhole::tray {

class Autostart;

// The tray app without widgets: owns the TunnelClient, applies AppSettings to it, keeps what the
// UI shows (state, public URL, next retry, last problem) and decides when the user should be told
// something. Network reachability changes skip the reconnect wait.
class TrayController : public QObject
{
    Q_OBJECT

public:
    static constexpr int kDefaultLostNoticeDelayMs = 5000;

    // `keyPath` is only for ClientSettings (the key itself comes from the KeyStore).
    TrayController(const AppSettings &settings, crypto::KeyPair key, const QString &keyPath = {},
                   QObject *parent = nullptr);
    ~TrayController() override;

    client::TunnelClient *tunnel() const { return m_tunnel; }
    const AppSettings &settings() const { return m_settings; }
    client::ClientState state() const;
    // start() was called and the tunnel has not stopped for good since.
    bool isRunning() const;
    // The public URL of the last registration with the current key (stable per key); empty before.
    QString publicUrl() const { return m_publicUrl; }
    QDateTime nextRetry() const;
    // The refusal reason, or the last connection error while reconnecting.
    QString detail() const { return m_detail; }
    // Why the local service is not answering; empty while it answers.
    QString localServiceProblem() const;
    QString label() const;
    // What the key will be called: <label>.<proxy host> (the proxy's domain usually is its host).
    QString predictedHostname() const;
    // The public URL the tunnel would have with `settings` (name and proxy), from the confirmed URL's
    // scheme and port when there is one.
    QString predictedPublicUrl(const AppSettings &settings) const;
    // The hostname the proxy confirmed for the current key and settings, else predictedHostname().
    QString hostname() const;
    StatePresentation presentation() const;
    // What the tunnel carried since the app started: requests (WebSockets count once, when they end)
    // and body bytes each way.
    qint64 requestCount() const { return m_requests; }
    qint64 bytesIn() const { return m_bytesIn; }
    qint64 bytesOut() const { return m_bytesOut; }

    // Validates and applies; a running tunnel reconnects with the new settings. Returns the problem
    // (nothing changes) or an empty string. Also switches start-at-login when an Autostart is set.
    QString applySettings(const AppSettings &settings);
    QString setLocalPort(int port);
    // A new or imported key: a new hostname, so the old URL is forgotten.
    void setKey(crypto::KeyPair key);
    void setAutostart(Autostart *autostart) { m_autostart = autostart; }
    void setLostNoticeDelay(int ms) { m_lostTimer.setInterval(ms); }

public Q_SLOTS:
    void start();
    void stop();
    void reconnectNow();
    void onReachabilityChanged(QNetworkInformation::Reachability reachability);

Q_SIGNALS:
    // Anything presentation() depends on changed.
    void changed();
    // Registered for the first time since start(), or again after connectionLost().
    void wentOnline(const QString &publicUrl);
    // Was online, and still is not after the lost-notice delay (5 s).
    void connectionLost(const QString &why);
    void refused(const QString &reason);
    // Reaching the proxy fails in a way retrying will not fix (unknown host, certificate, wrong scheme,
    // not a proxy): once per kind until it clears. The tunnel keeps retrying meanwhile.
    void lastingProblem(const QString &sentence, const QString &advice);
    void replaced();
    // The local service stopped answering while the tunnel is up (once per outage; it clears by itself
    // on the next good answer, with localServiceBack()).
    void localServiceDown(const QString &problem);
    void localServiceBack();
    // The local service refuses the public hostname as Host header (once; again after new settings).
    void hostRefused(const QString &description);
    void requestFinished(const keyhole::client::RequestRecord &record);
    // Settings could not be applied fully (e.g. start at login); the tunnel runs anyway.
    void warning(const QString &message);

private:
    void onStateChanged(client::ClientState state);
    void onRegistered(const client::TunnelInfo &info);

    AppSettings m_settings;
    QString m_keyPath;
    client::TunnelClient *m_tunnel = nullptr;
    Autostart *m_autostart = nullptr;
    QString m_publicUrl;
    QString m_hostname; // confirmed with m_publicUrl, forgotten with it
    QString m_detail;
    bool m_wasOnline = false;
    bool m_lostNotified = false;
    client::ConnectionProblem::Kind m_toldProblem = client::ConnectionProblem::Kind::None;
    QTimer m_lostTimer;
    QTimer m_countdown; // refreshes "retrying in N s"
    bool m_localDown = false;
    qint64 m_requests = 0;
    qint64 m_bytesIn = 0;
    qint64 m_bytesOut = 0;
};

} // namespace keyhole::tray
