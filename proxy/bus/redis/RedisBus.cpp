#include "bus/redis/RedisBus.h"

#include "bus/RequestIds.h"
#include "bus/redis/RedisConnection.h"
#include "bus/redis/RedisEnvelope.h"
#include "bus/redis/RedisKeys.h"
#include "bus/redis/RedisMessageIds.h"
#include "bus/redis/RedisOwnership.h"
#include "bus/redis/RedisRateLimiter.h"
#include "bus/redis/RedisReplayCache.h"
#include "bus/redis/RedisScripts.h"
#include "bus/redis/RedisSubscriber.h"
#include "protocol/Addressing.h"
#include "protocol/Codec.h"
#include "bus/BusLogging.h"
#include "websocket/WebSocketFrame.h"

namespace keyhole::proxy {

namespace {

using protocol::exchangeIdOf;
using redis::instanceOf;
using redis::isOpening;

RedisConnection::Options connectionOptions(const RedisBusOptions &options, const char *role)
{
    RedisConnection::Options o;
    o.clientName = "keyhole-" + options.instanceId + '-' + role;
    o.connectTimeoutMs = options.connectTimeoutMs;
    o.commandTimeoutMs = options.commandTimeoutMs;
    return o;
}

RedisBusOptions withInstanceId(RedisBusOptions options)
{
    if (options.instanceId.isEmpty())
        options.instanceId = RequestIds::newInstanceId();
    return options;
}
} // namespace

RedisBus::RedisBus(const RedisBusOptions &options, QObject *parent)
    : MessageBus(parent)
    , m_options(withInstanceId(options))
    , m_instanceId(m_options.instanceId)
{
    m_clock.start();
    m_commands = new RedisConnection(m_options.url, connectionOptions(m_options, "cmd"), this);
    RedisEnvelope heartbeat;
    heartbeat.kind = RedisEnvelope::Kind::Heartbeat;
    heartbeat.source = m_instanceId;
    m_subscriber = new RedisSubscriber(m_options.url, connectionOptions(m_options, "sub"),
                                       {RedisKeys::inbox(m_instanceId), RedisKeys::claimsChannel()}, m_commands,
                                       heartbeat.encode(), m_options.heartbeatMs, m_options.staleMs, this);
    m_ownership = new RedisOwnership(m_instanceId, m_commands, m_options.ownershipTtlMs, this);
    m_flow = new RedisFlowControl(m_options.flow, this);
    m_replayCache = new RedisReplayCache(m_commands, this);

    connect(m_commands, &RedisConnection::ready, this, &RedisBus::onCommandsReady);
    connect(m_subscriber, &RedisSubscriber::subscribedChanged, this, &RedisBus::onSubscribedChanged);
    connect(m_subscriber, &RedisSubscriber::message, this, &RedisBus::onMessage);
    connect(m_ownership, &RedisOwnership::taken, this, &MessageBus::tunnelTakenElsewhere);
    connect(m_ownership, &RedisOwnership::claimed, this, &RedisBus::onClaimed);
    connect(m_flow, &RedisFlowControl::resumed, this, &MessageBus::flowResumed);
    connect(m_flow, &RedisFlowControl::creditDue, this, [this](const QByteArray &source, qint64 bytes) {
        RedisEnvelope credit;
        credit.kind = RedisEnvelope::Kind::Credit;
        credit.source = m_instanceId;
        credit.payload = RedisEnvelope::encodeNumber(quint64(bytes));
        if (m_commands->isReady())
            m_commands->command({QByteArrayLiteral("PUBLISH"), RedisKeys::inbox(source), credit.encode()});
    });
    connect(&m_pruneTimer, &QTimer::timeout, this, &RedisBus::prune);
    m_pruneTimer.start(kPruneMs);
}

RedisBus::~RedisBus() = default;

void RedisBus::start()
{
    qCInfo(lcBus).noquote() << "instance" << m_instanceId << "sharing tunnels through" << m_options.url.redacted();
    m_commands->open();
    m_subscriber->open();
}

bool RedisBus::isConnected() const
{
    return m_commands->isReady();
}

bool RedisBus::isSubscribed() const
{
    return m_subscriber->isSubscribed();
}

quint64 RedisBus::epochOf(const QString &label) const
{
    return m_ownership->epoch(label);
}

BusHealth RedisBus::health() const
{
    if (!m_commands->isReady())
        return {false, QStringLiteral("Redis unreachable")};
    if (!m_subscriber->isHealthy())
        return {false, m_subscriber->healthDetail()};
    return {};
}

void RedisBus::onCommandsReady()
{
    RedisScripts::loadAll(m_commands);
    // New epochs for everything we hold: Redis may have restarted or expired our keys meanwhile.
    m_ownership->claimAll();
}

void RedisBus::onSubscribedChanged(bool subscribed)
{
    if (!subscribed) {
        // Whatever the inbox was bringing is lost: fail rather than wait for the deadline.
        m_subscriptionLost = true;
        failAllRemote(QStringLiteral("This proxy instance lost its connection to the other instances."));
        for (auto it = m_origins.begin(); it != m_origins.end();) {
            if (it->webSocket) {
                tearDownAtTunnel(it->label, it.key(), websocket::CloseInternalError,
                                 QStringLiteral("proxy instances lost contact"));
                it = m_origins.erase(it);
            } else {
                ++it;
            }
        }
        m_flow->forgetAll();
        return;
    }
    if (m_subscriptionLost) {
        m_subscriptionLost = false;
        // Visitors elsewhere may still wait on exchanges whose messages we never received: new
        // epochs make them fail those now.
        m_ownership->claimAll();
    }
}

void RedisBus::attachTunnel(const QString &label, TunnelSink *sink)
{
    m_ownership->attach(label, sink);
}

void RedisBus::detachTunnel(const QString &label, TunnelSink *sink)
{
    m_ownership->detach(label, sink);
}

int RedisBus::localTunnelCount() const
{
    return m_ownership->count();
}

std::unique_ptr<util::RateLimiter> RedisBus::rateLimiterFor(const QString &label, double ratePerSec, double burst,
                                                            const util::Clock *clock)
{
    return std::make_unique<RedisRateLimiter>(label, ratePerSec, burst, clock, m_commands);
}

crypto::ReplayCache *RedisBus::sharedReplayCache()
{
    return m_replayCache;
}

bool RedisBus::congestedFor(const QString &label) const
{
    if (const TunnelSink *sink = m_ownership->sink(label))
        return sink->congested();
    return m_flow->congested(m_lastOwner.value(label).instance);
}

// ---- visitor side -> tunnel ------------------------------------------------------------------

bool RedisBus::publishToTunnel(const QString &label, const protocol::Message &message)
{
    if (TunnelSink *sink = m_ownership->sink(label)) {
        sink->deliverToTunnel(message);
        return true;
    }
    const QByteArray id = exchangeIdOf(message);
    if (id.isEmpty())
        return false;
    const bool opening = isOpening(message);
    // A cancel ends a streamed exchange as a teardown ends a WebSocket: small, once, never refused.
    const bool teardown = std::holds_alternative<protocol::WsTeardown>(message)
        || std::holds_alternative<protocol::HttpCancel>(message);
    // Without our own inbox subscribed the answer could not reach us: refuse now rather than let
    // the visitor wait for the request deadline (a Redis restart resubscribes a moment after the
    // command connection is back).
    if (!m_commands->isReady() || !m_subscriber->isSubscribed()) {
        if (opening) {
            if (m_visitors)
                m_visitors->failExchange({id, 503,
                                          QStringLiteral("This tunnel is not on this proxy instance, and the "
                                                         "instances cannot reach each other right now."),
                                          5});
            return true;
        }
        m_remote.remove(id);
        return teardown;
    }
    if (opening) {
        if (m_remote.size() >= kMaxExchanges) {
            if (m_visitors)
                m_visitors->failExchange({id, 503, QStringLiteral("This proxy instance is too busy."), 1});
            return true;
        }
        RemoteExchange exchange;
        exchange.label = label;
        exchange.webSocket = std::holds_alternative<protocol::WsRequest>(message);
        const auto *request = std::get_if<protocol::HttpRequest>(&message);
        exchange.streamed = request && request->streamed;
        exchange.startedMs = nowMs();
        m_remote.insert(id, exchange);
        route(label, id, message);
        return true;
    }
    auto it = m_remote.find(id);
    if (it == m_remote.end())
        return teardown; // nothing of ours: the exchange already ended
    if (!teardown && m_flow->overHardLimit(it->owner)) {
        failRemote(id, 500, QStringLiteral("the proxy instance holding the tunnel is not keeping up"));
        return true;
    }
    if (it->streamed)
        it->startedMs = nowMs(); // its body moved: the exchange lives on
    const RemoteExchange exchange = *it;
    if (teardown)
        m_remote.erase(it);
    if (exchange.owner.isEmpty())
        route(label, id, message); // keeps order: same connection as the request before it
    else
        sendDirect(exchange, id, message);
    return true;
}

void RedisBus::route(const QString &label, const QByteArray &id, const protocol::Message &message)
{
    RedisEnvelope envelope;
    envelope.kind = RedisEnvelope::Kind::ToTunnel;
    envelope.source = m_instanceId;
    envelope.key = label.toUtf8();
    envelope.payload = protocol::Codec::encode(message);
    const QByteArray head = RedisEnvelope::head(envelope.kind);
    const QByteArray tail = envelope.tail();
    const qint64 bytes = head.size() + 8 + tail.size();
    const QByteArray assumed = m_lastOwner.value(label).instance;
    m_flow->sent(assumed, bytes);
    RedisScripts::run(
        m_commands, RedisScripts::Script::Route, {RedisKeys::owner(label)}, {head, tail, RedisKeys::inboxPrefix()},
        this, [this, label, id, bytes, assumed](const RedisReply &reply) {
            if (reply.type != RedisReply::Type::Array || reply.elements.size() < 3) {
                m_flow->undelivered(assumed, bytes);
                if (!reply.isFailed())
                    qCWarning(lcBus).noquote() << "routing to" << label << "failed:" << reply.describe();
                failRemote(
                    id, 503,
                    QStringLiteral("This tunnel is on another proxy instance, and Redis did not answer in time."), 1);
                return;
            }
            const qint64 delivered = reply.elements.at(0).toInteger();
            if (delivered < 0) {
                m_flow->undelivered(assumed, bytes);
                // Served a moment ago: its claim is being renewed after a Redis outage or the client
                // is re-registering. "Try again" rather than "not online".
                const LastOwner last = m_lastOwner.take(label);
                if (last.seenMs > 0 && nowMs() - last.seenMs < m_options.ownershipTtlMs + 2000) {
                    m_lastOwner.insert(label, {QByteArray(), last.seenMs});
                    failRemote(id, 503, QStringLiteral("The tunnel %1 is reconnecting; try again.").arg(label), 1);
                } else {
                    failRemote(id, 404, QStringLiteral("The tunnel %1 is not online.").arg(label));
                }
                return;
            }
            const QByteArray owner = reply.elements.at(1).text;
            if (delivered == 0) {
                // Nobody reads that inbox: the instance is gone. Fail now; do not wait for the deadline.
                m_flow->undelivered(assumed, bytes);
                failRemote(id, 502,
                           QStringLiteral("The proxy instance holding this tunnel is not reachable. "
                                          "The tunnel's client will reconnect; try again shortly."));
                return;
            }
            m_flow->moved(assumed, owner, bytes);
            m_lastOwner.insert(label, {owner, nowMs()});
            auto it = m_remote.find(id);
            if (it != m_remote.end() && it->owner.isEmpty()) {
                it->owner = owner;
                it->epoch = quint64(reply.elements.at(2).toInteger());
            }
        });
}

void RedisBus::sendDirect(const RemoteExchange &exchange, const QByteArray &id, const protocol::Message &message)
{
    RedisEnvelope envelope;
    envelope.kind = RedisEnvelope::Kind::ToTunnel;
    envelope.epoch = exchange.epoch;
    envelope.source = m_instanceId;
    envelope.key = exchange.label.toUtf8();
    envelope.payload = protocol::Codec::encode(message);
    publishTo(exchange.owner, envelope.encode(), [this, id](qint64 receivers) {
        if (receivers == 0)
            failRemote(id, 502, QStringLiteral("the proxy instance holding the tunnel went away"));
        else if (receivers < 0)
            failRemote(id, 503, QStringLiteral("Redis did not answer in time"));
    });
}

void RedisBus::publishTo(const QByteArray &instance, const QByteArray &envelope, std::function<void(qint64)> done)
{
    const qint64 bytes = envelope.size();
    m_flow->sent(instance, bytes);
    m_commands->command({QByteArrayLiteral("PUBLISH"), RedisKeys::inbox(instance), envelope}, this,
                        [this, instance, bytes, done = std::move(done)](const RedisReply &reply) {
                            const qint64 receivers = reply.type == RedisReply::Type::Integer ? reply.integer : -1;
                            if (receivers <= 0)
                                m_flow->undelivered(instance, bytes);
                            if (done)
                                done(receivers);
                        });
}

void RedisBus::failRemote(const QByteArray &id, int status, const QString &reason, int retryAfterSecs)
{
    auto it = m_remote.find(id);
    if (it == m_remote.end())
        return; // answered, timed out or closed already
    m_remote.erase(it);
    if (m_visitors)
        m_visitors->failExchange({id, status, reason, retryAfterSecs});
}

void RedisBus::failAllRemote(const QString &reason)
{
    const auto remote = std::exchange(m_remote, {});
    for (auto it = remote.cbegin(); it != remote.cend(); ++it) {
        // An open WebSocket closes with 1011; a request or a pending upgrade gets 502.
        if (m_visitors)
            m_visitors->failExchange({it.key(), it->open ? 500 : 502, reason});
    }
}

// ---- answers: tunnel side -> visitor side ------------------------------------------------------

void RedisBus::replyToVisitor(const QByteArray &id, const protocol::Message &message)
{
    const QByteArray destination = instanceOf(id);
    if (destination == m_instanceId) {
        if (m_visitors)
            m_visitors->deliverToVisitor(message);
        return;
    }
    auto it = m_origins.find(id);
    if (it == m_origins.end()) {
        qCDebug(lcBus) << "answer for unknown remote exchange" << id << "dropped";
        return;
    }
    const auto *wsResponse = std::get_if<protocol::WsResponse>(&message);
    const auto *response = std::get_if<protocol::HttpResponse>(&message);
    const auto *body = std::get_if<protocol::HttpBody>(&message);
    const bool isWsMessage = std::holds_alternative<protocol::WsMessage>(message);
    if ((response && response->streamed) || (body && !body->end)
        || std::holds_alternative<protocol::HttpCredit>(message)) {
        it->streamed = true;
        it->sinceMs = nowMs();
    }
    const Origin origin = *it;
    if ((response && !response->streamed) || (body && body->end)
        || std::holds_alternative<protocol::HttpCancel>(message)
        || std::holds_alternative<protocol::WsTeardown>(message) || (wsResponse && !wsResponse->accepted))
        m_origins.erase(it);

    if (!m_commands->isReady()) {
        if (origin.webSocket && m_origins.remove(id))
            tearDownAtTunnel(origin.label, id, websocket::CloseGoingAway,
                             QStringLiteral("the visitor's proxy instance is unreachable"));
        else if (origin.streamed && m_origins.remove(id))
            cancelAtTunnel(origin.label, id, QStringLiteral("the visitor's proxy instance is unreachable"));
        return;
    }
    if (m_flow->overHardLimit(destination)) {
        if (isWsMessage && m_origins.remove(id)) {
            tearDownAtTunnel(origin.label, id, websocket::CloseTryAgainLater,
                             QStringLiteral("the visitor's proxy instance is not keeping up"));
            sendFailure(destination, id, 500, QStringLiteral("the proxy instance is not keeping up"));
        } else if (origin.streamed && m_origins.remove(id)) {
            cancelAtTunnel(origin.label, id, QStringLiteral("the visitor's proxy instance is not keeping up"));
            sendFailure(destination, id, 502, QStringLiteral("The proxy instances are overloaded."));
        } else if (response) {
            sendFailure(destination, id, 503, QStringLiteral("The proxy instances are overloaded; try again."), 1);
        }
        return;
    }
    RedisEnvelope envelope;
    envelope.kind = RedisEnvelope::Kind::ToVisitor;
    envelope.epoch = m_ownership->epoch(origin.label);
    envelope.source = m_instanceId;
    envelope.key = id;
    envelope.payload = protocol::Codec::encode(message);
    publishTo(destination, envelope.encode(), [this, id, origin](qint64 receivers) {
        if (receivers == 0 && origin.webSocket && m_origins.remove(id))
            tearDownAtTunnel(origin.label, id, websocket::CloseGoingAway,
                             QStringLiteral("the visitor's proxy instance went away"));
        else if (receivers == 0 && origin.streamed)
            cancelAtTunnel(origin.label, id, QStringLiteral("the visitor's proxy instance went away"));
    });
}

void RedisBus::failVisitorExchange(const ExchangeFailure &failure)
{
    const QByteArray destination = instanceOf(failure.id);
    if (destination == m_instanceId) {
        if (m_visitors)
            m_visitors->failExchange(failure);
        return;
    }
    if (!m_origins.remove(failure.id))
        return;
    sendFailure(destination, failure.id, failure.status, failure.reason, failure.retryAfterSecs);
}

void RedisBus::sendFailure(const QByteArray &instance, const QByteArray &id, int status, const QString &reason,
                           int retryAfterSecs)
{
    if (!m_commands->isReady() || instance.isEmpty())
        return;
    RedisEnvelope envelope;
    envelope.kind = RedisEnvelope::Kind::Failure;
    envelope.source = m_instanceId;
    envelope.key = id;
    envelope.payload = RedisEnvelope::encodeFailure(status, retryAfterSecs, reason);
    m_commands->command({QByteArrayLiteral("PUBLISH"), RedisKeys::inbox(instance), envelope.encode()});
}

void RedisBus::tearDownAtTunnel(const QString &label, const QByteArray &id, int code, const QString &reason)
{
    if (TunnelSink *sink = m_ownership->sink(label))
        sink->deliverToTunnel(protocol::WsTeardown{id, code, reason});
}

void RedisBus::cancelAtTunnel(const QString &label, const QByteArray &id, const QString &reason)
{
    m_origins.remove(id);
    if (TunnelSink *sink = m_ownership->sink(label))
        sink->deliverToTunnel(protocol::HttpCancel{id, reason});
}

void RedisBus::tearDownRemoteOrigins(const QString &label, int code, const QString &reason)
{
    for (auto it = m_origins.begin(); it != m_origins.end();) {
        if (it->webSocket && it->label == label) {
            tearDownAtTunnel(label, it.key(), code, reason);
            it = m_origins.erase(it);
        } else {
            ++it;
        }
    }
}

} // namespace keyhole::proxy
