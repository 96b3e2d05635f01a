#pragma once

#include "bus/MessageBus.h"
#include "bus/redis/RedisFlowControl.h"
#include "bus/redis/RedisUrl.h"

#include <QElapsedTimer>
#include <QHash>
#include <QTimer>

namespace keyhole::proxy {

class RedisConnection;
class RedisOwnership;
class RedisReplayCache;
class RedisSubscriber;
struct RedisEnvelope;

struct RedisBusOptions {
    RedisUrl url;
    QByteArray instanceId;       // [A-Za-z0-9_.]{1,32}; empty: a random one
    int ownershipTtlMs = 10'000; // owner keys expire this long after the last renewal
    int connectTimeoutMs = 2'000;
    int commandTimeoutMs = 2'000;
    int heartbeatMs = 1'000;
    int staleMs = 3'000;
    int requestTimeoutMs = 30'000; // exchanges older than this were answered 504 already: forget them
    // The largest body or payload one message carries (inline body, HttpBody chunk, WebSocket
    // message): bounds what an envelope may hold. Streamed bodies never make it larger.
    qint64 maxMessageBytes = 512'000;
    int bodyIdleTimeoutMs = 120'000; // a streamed exchange quiet for longer was cut: forget it
    RedisFlowControl::Limits flow;
};

// The bus of an instance among several sharing one Redis (--redis). Tunnels held here are served
// in process, exactly like InMemoryBus, Redis or not. For a tunnel held elsewhere, messages go to
// the holder's inbox through a script that reads the owner key and publishes in one step; answers
// come back to the asking instance's inbox (the request id names it). One subscription per
// instance, made once; claims and fencing epochs in RedisOwnership; flow control in
// RedisFlowControl. Everything read from Redis is checked: bounded sizes, decode errors logged and
// dropped, answers only for exchanges we started, from the instance we sent them to.
class RedisBus : public MessageBus
{
    Q_OBJECT

public:
    explicit RedisBus(const RedisBusOptions &options, QObject *parent = nullptr);
    ~RedisBus() override;

    // Connects (and keeps reconnecting); the bus serves local tunnels meanwhile.
    void start();

    QByteArray instanceId() const override { return m_instanceId; }
    void attachTunnel(const QString &label, TunnelSink *sink) override;
    void detachTunnel(const QString &label, TunnelSink *sink) override;
    void setVisitorSink(VisitorSink *sink) override { m_visitors = sink; }
    bool publishToTunnel(const QString &label, const protocol::Message &message) override;
    void replyToVisitor(const QByteArray &id, const protocol::Message &message) override;
    void failVisitorExchange(const ExchangeFailure &failure) override;
    int localTunnelCount() const override;
    std::unique_ptr<util::RateLimiter> rateLimiterFor(const QString &label, double ratePerSec, double burst,
                                                      const util::Clock *clock) override;
    crypto::ReplayCache *sharedReplayCache() override;
    BusHealth health() const override;
    bool congestedFor(const QString &label) const override;

    // For tests and /healthz.
    bool isConnected() const;
    bool isSubscribed() const;
    quint64 epochOf(const QString &label) const;
    int remoteExchangeCount() const { return int(m_remote.size()); }

private:
    static constexpr qsizetype kMaxExchanges = 100'000; // each way: bounds m_remote and m_origins
    static constexpr int kPruneMs = 5'000;
    static constexpr int kMaxDecodeWarnings = 20; // per prune interval: garbage must not flood the log

    // Visitor side: an exchange of ours that another instance serves.
    struct RemoteExchange {
        QString label;
        QByteArray owner; // empty until the route answers (or the first answer arrives)
        quint64 epoch = 0;
        bool webSocket = false;
        bool open = false;     // a WebSocket past its handshake
        bool streamed = false; // a body is streaming either way: lives while it moves
        qint64 startedMs = 0;  // or when it last moved, for a streamed one
    };
    // Tunnel side: an exchange another instance sent to one of our tunnels.
    struct Origin {
        QString label;
        bool webSocket = false;
        bool streamed = false;
        qint64 sinceMs = 0; // refreshed by every message of a streamed exchange
    };

    void onCommandsReady();
    void onSubscribedChanged(bool subscribed);
    void onMessage(const QByteArray &channel, const QByteArray &payload);
    void onClaimNotice(const QByteArray &payload);
    void onClaimed(const QString &label, quint64 epoch, quint64 previousEpoch);
    void handleToTunnel(const RedisEnvelope &envelope);
    void handleToVisitor(const RedisEnvelope &envelope);
    void handleFailure(const RedisEnvelope &envelope);
    RemoteExchange *acceptAnswer(const RedisEnvelope &envelope, const QByteArray &id);

    void route(const QString &label, const QByteArray &id, const protocol::Message &message);
    void sendDirect(const RemoteExchange &exchange, const QByteArray &id, const protocol::Message &message);
    void publishTo(const QByteArray &instance, const QByteArray &envelope, std::function<void(qint64)> done);
    void sendFailure(const QByteArray &instance, const QByteArray &id, int status, const QString &reason,
                     int retryAfterSecs = 0);
    void failRemote(const QByteArray &id, int status, const QString &reason, int retryAfterSecs = 0);
    void failAllRemote(const QString &reason);
    void tearDownAtTunnel(const QString &label, const QByteArray &id, int code, const QString &reason);
    void tearDownRemoteOrigins(const QString &label, int code, const QString &reason);
    // The visitor's side of a streamed exchange is gone: the tunnel stops it too.
    void cancelAtTunnel(const QString &label, const QByteArray &id, const QString &reason);
    void prune();
    qint64 nowMs() const { return m_clock.elapsed(); }

    RedisBusOptions m_options;
    QByteArray m_instanceId;
    RedisConnection *m_commands;
    RedisSubscriber *m_subscriber;
    RedisOwnership *m_ownership;
    RedisFlowControl *m_flow;
    RedisReplayCache *m_replayCache;
    VisitorSink *m_visitors = nullptr;
    QHash<QByteArray, RemoteExchange> m_remote;
    QHash<QByteArray, Origin> m_origins;
    struct LastOwner {
        QByteArray instance;
        qint64 seenMs = 0;
    };
    QHash<QString, LastOwner> m_lastOwner; // where a label was last routed: flow control, 503 vs 404
    QTimer m_pruneTimer;
    QElapsedTimer m_clock;
    bool m_subscriptionLost = false;
    int m_decodeWarnings = 0;
};

} // namespace keyhole::proxy
