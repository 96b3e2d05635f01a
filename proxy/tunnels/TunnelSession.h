#pragma once

#include "bus/MessageBus.h"
#include "crypto/RegistrationVerifier.h"
#include "protocol/Codec.h"
#include "tunnels/TunnelContext.h"
#include "tunnels/TunnelStream.h"
#include "util/RateLimiter.h"
#include "util/TokenBucket.h"

#include <QElapsedTimer>
#include <QHash>
#include <QObject>
#include <QSet>
#include <QBasicTimer>

#include <memory>

namespace keyhole::websocket {
class WebSocketChannel;
}

namespace keyhole::proxy {

// One client's control channel: registration, then the tunnel's traffic. Verifies the client's
// registration, holds its hostname in the registry, passes requests to the client (rate-limited,
// bounded), checks that every answer is for a request it really sent, pings a quiet client and
// drops a silent one. Fails its pending requests with 502 the moment the channel is lost.
// Owns the channel; deletes itself when it closes.
class TunnelSession : public QObject, public TunnelSink
{
    Q_OBJECT

public:
    enum class State { AwaitingRegistration, Verifying, Online, Closed };

    TunnelSession(websocket::WebSocketChannel *socket, const TunnelContext &context, QObject *parent);
    ~TunnelSession() override;

    void deliverToTunnel(const protocol::Message &message) override;
    // The control channel has more than its high-water mark unsent, or visitors' WebSocket bytes
    // are over --ws-rate: visitor WebSockets of this tunnel are not read meanwhile.
    bool congested() const override;
    // Another connection registered the same hostname.
    void replaced();
    // Proxy shutdown: say goodbye and close.
    void shutdown();
    // A reload changed the per-tunnel limits (rate, burst, WebSocket bytes, pending, WebSockets): they
    // apply from the next request on; the rate limiter starts full again.
    void applyLimits(const TunnelOptions &options);
    QString label() const { return m_label; }
    State state() const { return m_state; }

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void onBinaryMessage(const QByteArray &frame);
    void onTextMessage(const QString &text);
    void onRegistration(const protocol::RegistrationRequest &request);
    void completeRegistration(const crypto::RegistrationVerifier::Result &result);
    void onHttpResponse(protocol::HttpResponse &response);
    // Streamed bodies (TunnelSessionStreams.cpp): from the visitor side towards the client...
    void requestBodyToClient(const protocol::HttpBody &body, const protocol::Message &message);
    void creditToClient(const protocol::HttpCredit &credit, const protocol::Message &message);
    void cancelFromVisitor(const protocol::HttpCancel &cancel);
    // ...and from the client towards the visitor.
    void responseBodyFromClient(protocol::HttpBody &body);
    void creditFromClient(protocol::HttpCredit &credit);
    void cancelFromClient(protocol::HttpCancel &cancel);
    // Both ends stop: the client hears HttpCancel, the visitor side too (502 before the head, cut after).
    void cancelBoth(const QByteArray &id, const QString &reason);
    // Forgets a streamed exchange once neither body flows and no head is awaited.
    void settle(const QByteArray &id);
    void cutIdleStreams(qint64 nowMs);
    bool admit(const QByteArray &id, bool isUpgrade);
    void tearDownBoth(const QByteArray &id, int code, const QString &reason);
    void onHeartbeat();
    // Arms m_timer for the first thing due: a ping, the silence that drops the tunnel, or (while
    // bodies stream) the next look for idle ones. One timer event per ping for an idle tunnel.
    // justFired: called from the timer's own event, so a running timer's next tick is a period away.
    void scheduleHeartbeat(qint64 nowMs, bool justFired);
    void armHeartbeat(qint64 dueMs, qint64 nowMs, bool justFired);
    // While bodies stream, idle ones are looked for at least this often.
    void watchStreams();
    int streamCheckPeriodMs() const;
    void chargeWebSocketBytes(qint64 bytes);
    void onThrottleEnd();
    void onDisconnected();
    bool send(const protocol::Message &message);
    // Sends a request or upgrade that admit() let through; if the client's channel is congested
    // the visitor gets 503 instead.
    void sendOrFail(const QByteArray &id, const protocol::Message &message);
    void refuseVersion(int clientVersion);
    void closeWith(const char *goodbyeCode, const QString &reason, int closeCode);
    void failAllPending(const QString &reason);

    websocket::WebSocketChannel *m_socket;
    TunnelContext m_context;
    protocol::DecodeLimits m_decodeLimits; // a body or payload: one message's worth, never a whole body
    State m_state = State::AwaitingRegistration;
    int m_peerVersion = protocol::kProtocolVersion; // other only to refuse a client of another version
    QString m_label;
    std::unique_ptr<util::RateLimiter> m_rateLimiter; // from the bus once registered: shared across instances
    // Visitors' WebSocket bytes towards this tunnel (--ws-rate); null without a limit. Counted here
    // only: a tunnel lives on one instance at a time.
    std::unique_ptr<util::TokenBucket> m_wsBytes;
    double m_wsBytesOwed = 0; // taken past the bucket while throttled
    bool m_wsThrottled = false;
    QBasicTimer m_throttleTimer;
    QHash<QByteArray, qint64> m_pending; // HTTP request or WebSocket upgrade id → when it was sent (monotonic ms)
    QSet<QByteArray> m_upgrades;         // ids in m_pending that are WebSocket upgrades
    QSet<QByteArray> m_webSockets;       // open WebSockets of this tunnel
    // Exchanges with a body streaming either way; an id may be in m_pending too (no head yet).
    QHash<QByteArray, TunnelStream> m_streams;
    QBasicTimer m_timer; // registration deadline, then the heartbeat; no QObject per idle tunnel
    qint64 m_timerDueMs = 0;
    int m_timerPeriodMs = 0; // what m_timer repeats at
    // A ping goes after this much silence: the ping interval plus a random part of half of it, fixed
    // per session, so that tunnels that registered together (a proxy restart, a client fleet) ping,
    // and are answered, spread over time rather than all at once.
    int m_pingAfterMs = 0;
    qint64 m_lastHeardMs = 0;
    qint64 m_lastPingMs = 0;
    quint64 m_pingNonce = 0;
    QElapsedTimer m_onlineSince;
};

} // namespace keyhole::proxy
