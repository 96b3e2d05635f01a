#include "bus/redis/RedisBus.h"

#include "bus/redis/RedisEnvelope.h"
#include "bus/redis/RedisKeys.h"
#include "bus/redis/RedisMessageIds.h"
#include "bus/redis/RedisOwnership.h"
#include "bus/redis/RedisSubscriber.h"
#include "protocol/Addressing.h"
#include "protocol/Codec.h"
#include "bus/BusLogging.h"
#include "websocket/WebSocketFrame.h"

// RedisBus, continued: what arrives on the instance's inbox and on the claims channel.

namespace keyhole::proxy {

namespace {

using protocol::exchangeIdOf;
using redis::instanceOf;
using redis::isOpening;
} // namespace

// ---- the inbox --------------------------------------------------------------------------------

void RedisBus::onMessage(const QByteArray &channel, const QByteArray &payload)
{
    if (channel == RedisKeys::claimsChannel()) {
        onClaimNotice(payload);
        return;
    }
    QString error;
    // The largest body or payload one message carries, plus headers and envelope: streamed bodies
    // travel in chunks, so this does not grow with the body limits.
    const qint64 maxFrame = m_options.maxMessageBytes + 1024 * 1024;
    const std::optional<RedisEnvelope> envelope = RedisEnvelope::decode(payload, maxFrame, &error);
    if (!envelope) {
        if (++m_decodeWarnings <= kMaxDecodeWarnings)
            qCWarning(lcBus).noquote() << "dropped a malformed message from Redis:" << error;
        return;
    }
    switch (envelope->kind) {
    case RedisEnvelope::Kind::Heartbeat:
        if (envelope->source == m_instanceId) {
            if (const auto nonce = RedisEnvelope::decodeNumber(envelope->payload))
                m_subscriber->heard(*nonce);
        }
        return;
    case RedisEnvelope::Kind::Credit:
        if (const auto bytes = RedisEnvelope::decodeNumber(envelope->payload))
            m_flow->credited(envelope->source, qint64(qMin<quint64>(*bytes, quint64(1) << 40)));
        return;
    case RedisEnvelope::Kind::ToTunnel:
        m_flow->received(envelope->source, payload.size());
        handleToTunnel(*envelope);
        return;
    case RedisEnvelope::Kind::ToVisitor:
        m_flow->received(envelope->source, payload.size());
        handleToVisitor(*envelope);
        return;
    case RedisEnvelope::Kind::Failure:
        m_flow->received(envelope->source, payload.size());
        handleFailure(*envelope);
        return;
    }
}

void RedisBus::handleToTunnel(const RedisEnvelope &envelope)
{
    protocol::DecodeLimits limits;
    limits.maxBodyBytes = m_options.maxMessageBytes;
    protocol::DecodeResult decoded = protocol::Codec::decode(envelope.payload, limits);
    if (!decoded) {
        if (++m_decodeWarnings <= kMaxDecodeWarnings)
            qCWarning(lcBus).noquote() << "dropped an undecodable message from instance" << envelope.source << ":"
                                       << decoded.error;
        return;
    }
    const protocol::Message &message = *decoded.message;
    const QByteArray id = exchangeIdOf(message);
    const QString label = QString::fromUtf8(envelope.key);
    // Only messages for the sender's own exchanges: one instance cannot speak for another's visitors.
    if (id.isEmpty() || instanceOf(id) != envelope.source || envelope.source == m_instanceId) {
        qCDebug(lcBus) << "message with a foreign id" << id << "from" << envelope.source << "dropped";
        return;
    }
    const bool cancel = std::holds_alternative<protocol::HttpCancel>(message);
    const bool teardown = std::holds_alternative<protocol::WsTeardown>(message) || cancel;
    TunnelSink *sink = m_ownership->sink(label);
    const quint64 epoch = m_ownership->epoch(label);
    // An epoch below ours was routed under an earlier claim: its sender is failing it already.
    if (!sink || envelope.epoch < epoch) {
        if (!teardown)
            sendFailure(envelope.source, id, 502,
                        QStringLiteral("The tunnel moved to another proxy instance; try again."));
        m_origins.remove(id);
        return;
    }
    if (envelope.epoch > epoch)
        m_ownership->verify(label); // routed under a claim of ours whose answer we have not seen yet
    if (isOpening(message)) {
        if (m_origins.size() >= kMaxExchanges) {
            sendFailure(envelope.source, id, 503, QStringLiteral("This proxy instance is too busy."), 1);
            return;
        }
        const auto *request = std::get_if<protocol::HttpRequest>(&message);
        m_origins.insert(
            id, {label, std::holds_alternative<protocol::WsRequest>(message), request && request->streamed, nowMs()});
    } else if (teardown) {
        if (!m_origins.remove(id))
            return;
    } else if (auto it = m_origins.find(id); it != m_origins.end()) {
        it->sinceMs = nowMs(); // a streamed body (or credit for one) moved
    } else {
        return; // an exchange we do not know (any more)
    }
    sink->deliverToTunnel(message);
}

RedisBus::RemoteExchange *RedisBus::acceptAnswer(const RedisEnvelope &envelope, const QByteArray &id)
{
    auto it = m_remote.find(id);
    if (it == m_remote.end()) {
        qCDebug(lcBus) << "late answer for" << id << "dropped";
        return nullptr;
    }
    // Fencing: only the instance we sent to, and never under an older claim than the one we used.
    if (!it->owner.isEmpty() && (it->owner != envelope.source || envelope.epoch < it->epoch)) {
        qCInfo(lcBus) << "answer for" << id << "from instance" << envelope.source << "epoch" << envelope.epoch
                      << "dropped: the exchange belongs to" << it->owner << "epoch" << it->epoch;
        return nullptr;
    }
    if (it->owner.isEmpty()) { // the answer overtook the route's reply
        it->owner = envelope.source;
        it->epoch = envelope.epoch;
    }
    return &it.value();
}

void RedisBus::handleToVisitor(const RedisEnvelope &envelope)
{
    protocol::DecodeLimits limits;
    limits.maxBodyBytes = m_options.maxMessageBytes;
    protocol::DecodeResult decoded = protocol::Codec::decode(envelope.payload, limits);
    if (!decoded) {
        if (++m_decodeWarnings <= kMaxDecodeWarnings)
            qCWarning(lcBus).noquote() << "dropped an undecodable answer from instance" << envelope.source << ":"
                                       << decoded.error;
        return;
    }
    const protocol::Message &message = *decoded.message;
    const QByteArray id = exchangeIdOf(message);
    if (id != envelope.key)
        return;
    RemoteExchange *exchange = acceptAnswer(envelope, id);
    if (!exchange)
        return;
    const auto *wsResponse = std::get_if<protocol::WsResponse>(&message);
    const auto *response = std::get_if<protocol::HttpResponse>(&message);
    const auto *body = std::get_if<protocol::HttpBody>(&message);
    if (wsResponse && wsResponse->accepted) {
        exchange->open = true;
    } else if ((response && response->streamed) || (body && !body->end)
               || std::holds_alternative<protocol::HttpCredit>(message)) {
        exchange->streamed = true; // lives while its body moves
        exchange->startedMs = nowMs();
    } else if (!std::holds_alternative<protocol::WsMessage>(message)) {
        // Whole HttpResponse, last HttpBody, HttpCancel, refused upgrade, teardown: the exchange is over.
        m_remote.remove(id);
    }
    if (m_visitors)
        m_visitors->deliverToVisitor(message);
}

void RedisBus::handleFailure(const RedisEnvelope &envelope)
{
    int status = 0;
    int retryAfter = 0;
    QString reason;
    if (!RedisEnvelope::decodeFailure(envelope.payload, &status, &retryAfter, &reason))
        return;
    if (!acceptAnswer(envelope, envelope.key))
        return;
    m_remote.remove(envelope.key);
    if (m_visitors)
        m_visitors->failExchange({envelope.key, status, reason, retryAfter});
}

void RedisBus::onClaimNotice(const QByteArray &payload)
{
    const QList<QByteArray> parts = payload.split(' ');
    if (parts.size() != 3 || parts.at(0).size() > RedisEnvelope::kMaxKeyBytes)
        return;
    const QString label = QString::fromUtf8(parts.at(0));
    bool ok = false;
    const quint64 epoch = parts.at(1).toULongLong(&ok);
    const QByteArray &instance = parts.at(2);
    if (!ok)
        return;
    if (auto last = m_lastOwner.find(label); last != m_lastOwner.end())
        last->instance = instance;
    if (instance != m_instanceId && m_ownership->sink(label))
        m_ownership->verify(label);
    // Exchanges in flight under an earlier claim: the new holder never saw them, and the old one may
    // not answer. 502 (or 1011 for an open WebSocket) now; nothing is replayed.
    QList<QByteArray> stale;
    for (auto it = m_remote.cbegin(); it != m_remote.cend(); ++it) {
        if (it->label == label && !it->owner.isEmpty() && (it->owner != instance || it->epoch < epoch))
            stale.append(it.key());
    }
    for (const QByteArray &id : stale) {
        const bool open = m_remote.value(id).open;
        failRemote(id, open ? 500 : 502,
                   QStringLiteral("The tunnel moved to another proxy instance while this request was in flight."));
    }
}

void RedisBus::onClaimed(const QString &label, quint64 epoch, quint64 previousEpoch)
{
    // Visitors elsewhere fail what they sent under the previous claim; so do we on this side.
    if (previousEpoch != 0 && previousEpoch != epoch)
        tearDownRemoteOrigins(label, websocket::CloseInternalError,
                              QStringLiteral("the tunnel's proxy instance changed"));
}

void RedisBus::prune()
{
    m_decodeWarnings = 0;
    const qint64 now = nowMs();
    const qint64 answeredBy = m_options.requestTimeoutMs + kPruneMs;
    // A streamed exchange quiet for longer than this was cut on both ends by the body idle timeout.
    const qint64 quietFor = qMax<qint64>(answeredBy, m_options.bodyIdleTimeoutMs + kPruneMs);
    for (auto it = m_remote.begin(); it != m_remote.end();) {
        if (!it->open && now - it->startedMs > (it->streamed ? quietFor : answeredBy))
            it = m_remote.erase(it); // the visitor side answered 504 long ago
        else
            ++it;
    }
    for (auto it = m_origins.begin(); it != m_origins.end();) {
        if (!it->webSocket && now - it->sinceMs > 2 * (it->streamed ? quietFor : answeredBy))
            it = m_origins.erase(it);
        else
            ++it;
    }
}

} // namespace keyhole::proxy
