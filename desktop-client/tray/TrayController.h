#pragma once

#include "AppSettings.h"
#include "ClientState.h"
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
    QString label() const;
    // What the key will be called: <label>.<proxy host> (the proxy's domain usually is its host).
    QString predictedHostname() const;
    // The hostname the proxy confirmed for the current key and settings, else predictedHostname().
    QString hostname() const;
    StatePresentation presentation() const;

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
    void replaced();
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
    QTimer m_lostTimer;
    QTimer m_countdown; // refreshes "retrying in N s"
};

} // namespace keyhole::tray
