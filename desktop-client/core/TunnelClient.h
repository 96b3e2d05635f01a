#pragma once

#include "Backoff.h"
#include "ClientSettings.h"
#include "ClientState.h"
#include "ConnectionProblem.h"
#include "HostRefusalDetector.h"
#include "RequestRecord.h"
#include "TunnelInfo.h"
#include "crypto/KeyPair.h"
#include "protocol/Messages.h"

#include <QDateTime>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>
#include <QTimer>

#include <optional>

namespace keyhole::util {
class Clock;
}

namespace keyhole::websocket {
class WebSocketChannel;
class WebSocketConnector;
} // namespace keyhole::websocket

namespace keyhole::client {

class LocalForwarder;
class LocalTraffic;
class LocalWebSocketBridge;

// The client's side of the control channel: one WebSocket to <proxy>/proxy/subscribe, registration
// with the key, requests handed to a LocalForwarder and answered, liveness (answers Pings, gives up
// on a silent proxy) and reconnecting with backoff. A final refusal (the key is not authorized, the
// token is bad) and replacement stop it for good until start() is called again, so two clients with
// one key do not take the tunnel from each other forever; a refusal the proxy marks as worth
// retrying (busy) is retried with backoff like a lost connection.
class TunnelClient : public QObject
{
    Q_OBJECT
    Q_PROPERTY(keyhole::client::ClientState state READ state NOTIFY stateChanged)

public:
    static constexpr int kDefaultWatchdogMs = 20000;
    static constexpr quint64 kMaxIncomingMessageBytes = 80ull * 1024 * 1024;

    TunnelClient(const ClientSettings &settings, crypto::KeyPair key, QObject *parent = nullptr);
    ~TunnelClient() override;

    ClientState state() const { return m_state; }
    const ClientSettings &settings() const { return m_settings; }
    // The hostname label this key (and name) registers; the proxy confirms it on registration.
    QString label() const;
    // <label>.<proxy host>: the hostname before the proxy confirms it (see TunnelHostname).
    QString predictedHostname() const;
    // The same for other settings (a name or proxy the user is about to choose).
    QString predictedHostname(const QString &name, const QUrl &proxyUrl) const;
    // The last accepted registration (hostname, public URL, limits); empty before the first.
    const TunnelInfo &tunnelInfo() const { return m_info; }
    QDateTime nextRetryTime() const { return m_nextRetry; }
    // Why the last attempt to reach the proxy failed (kind None once registered); errorOccurred()
    // announces each change.
    const ConnectionProblem &connectionProblem() const { return m_problem; }
    LocalForwarder *forwarder() const;
    // Why the local service is not answering (refused, unreachable, timed out); empty while it
    // answers, and until the first request fails.
    QString localServiceProblem() const { return m_localProblem; }
    LocalWebSocketBridge *webSockets() const;

    // New settings (and key); a running client reconnects with them.
    void applySettings(const ClientSettings &settings);
    void setKey(crypto::KeyPair key);

    // For tests.
    void setClock(const util::Clock *clock);
    void setBackoff(const Backoff &backoff) { m_backoff = backoff; }
    void setWatchdogInterval(int ms) { m_watchdogMs = ms; }

public Q_SLOTS:
    void start();
    // Says Goodbye "client-exit" when connected, closes, and emits stopped() once the socket is gone.
    void stop();
    // The network changed (e.g. QNetworkInformation says it is reachable again): skip the wait.
    void reconnectNow();

Q_SIGNALS:
    void stateChanged(keyhole::client::ClientState state);
    void registered(const keyhole::client::TunnelInfo &info);
    void refused(const QString &reason, const QByteArray &code);
    void requestFinished(const keyhole::client::RequestRecord &record);
    // A visitor WebSocket opened, was refused or closed (record.kind == WebSocket).
    void webSocketActivity(const keyhole::client::RequestRecord &record);
    void errorOccurred(const QString &message);
    // The local service stopped answering (`problem` says why), or answers again (`problem` empty).
    void localServiceChanged(const QString &problem);
    // The local service refuses the forwarded Host header (a dev server's host check); emitted once,
    // and again only after the settings change. Only while the visitor's Host is kept, since
    // rewriting it is the fix.
    void localHostRefused(const QString &description);
    void nextRetryAt(const QDateTime &when);
    void stopped();

private:
    void setState(ClientState state);
    void openSocket();
    void onConnected(websocket::WebSocketChannel *channel, quint64 generation);
    void onSocketLost(const QString &why);
    void onBinaryMessage(const QByteArray &frame);
    void onWatchdog();
    void refuseVersion(int proxyVersion);
    void handle(const protocol::Message &message);
    void handleRegistration(const protocol::RegistrationResponse &response);
    void handleGoodbye(const protocol::Goodbye &goodbye);
    void protocolError(const QString &why);
    bool send(const protocol::Message &message);
    void scheduleReconnect();
    void enterTerminal(ClientState state);
    // Detaches the current connection attempt or socket: closes it gracefully (close frame) or aborts it.
    void retireSocket(bool graceful);
    void rebuildForwarder();
    void loadCaCertificates();
    void onLocalRecord(const RequestRecord &record);
    void setLocalProblem(const QString &problem);

    ClientSettings m_settings;
    std::optional<crypto::KeyPair> m_key;
    const util::Clock *m_clock;
    ClientState m_state = ClientState::Offline;
    bool m_wanted = false;                                // start() was called and nothing final happened since
    websocket::WebSocketConnector *m_connector = nullptr; // while connecting
    websocket::WebSocketChannel *m_socket = nullptr;      // once the handshake is done
    quint64 m_generation = 0;                             // which socket a running request belongs to
    LocalTraffic *m_traffic = nullptr;                    // HTTP exchanges and WebSockets to the local service
    QList<QSslCertificate> m_caCertificates;
    TunnelInfo m_info;
    QString m_localProblem;
    ConnectionProblem m_problem;
    HostRefusalDetector m_hostRefusal;

    Backoff m_backoff;
    QTimer m_retryTimer;
    QTimer m_watchdog;
    int m_watchdogMs = kDefaultWatchdogMs;
    QDateTime m_nextRetry;
    int m_closingSockets = 0;
    bool m_stopping = false;
};

} // namespace keyhole::client
