#include "bus/redis/RedisSubscriber.h"

#include "bus/redis/RedisEnvelope.h"
#include "bus/BusLogging.h"

#include <chrono>

namespace keyhole::proxy {

namespace {
qint64 nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
constexpr size_t kMaxUnheard = 64;
} // namespace

RedisSubscriber::RedisSubscriber(const RedisUrl &url, const RedisConnection::Options &options,
                                 QList<QByteArray> channels, RedisConnection *commands,
                                 QByteArray heartbeatEnvelopePrefix, int heartbeatMs, int staleMs, QObject *parent)
    : QObject(parent)
    , m_connection(url, options)
    , m_channels(std::move(channels))
    , m_commands(commands)
    , m_heartbeatPrefix(std::move(heartbeatEnvelopePrefix))
    , m_staleMs(staleMs)
{
    m_connection.setParent(this);
    connect(&m_connection, &RedisConnection::ready, this, &RedisSubscriber::onReady);
    connect(&m_connection, &RedisConnection::lost, this, &RedisSubscriber::onLost);
    connect(&m_connection, &RedisConnection::subscribed, this, &RedisSubscriber::onSubscribed);
    connect(&m_connection, &RedisConnection::message, this, &RedisSubscriber::message);
    connect(&m_beat, &QTimer::timeout, this, &RedisSubscriber::beat);
    m_beat.start(heartbeatMs);
}

void RedisSubscriber::open()
{
    m_connection.open();
}

void RedisSubscriber::onReady()
{
    m_confirmed = 0;
    m_unheard.clear();
    m_connection.subscribe(m_channels);
}

void RedisSubscriber::onSubscribed(const QByteArray &channel)
{
    if (!m_channels.contains(channel) || m_subscribed)
        return;
    if (++m_confirmed < m_channels.size())
        return;
    m_subscribed = true;
    m_subscribedAtMs = nowMs();
    m_unheard.clear();
    qCInfo(lcBus).noquote() << "subscribed to" << QString::fromUtf8(m_channels.join(' '));
    Q_EMIT subscribedChanged(true);
    beat();
}

void RedisSubscriber::onLost(const QString &reason)
{
    m_confirmed = 0;
    m_unheard.clear();
    if (!m_subscribed)
        return;
    m_subscribed = false;
    qCWarning(lcBus).noquote() << "subscription lost:" << reason;
    Q_EMIT subscribedChanged(false);
}

void RedisSubscriber::heard(quint64 nonce)
{
    m_heardNonce = qMax(m_heardNonce, nonce);
    while (!m_unheard.empty() && m_unheard.front().first <= m_heardNonce)
        m_unheard.pop_front();
}

void RedisSubscriber::beat()
{
    const qint64 now = nowMs();
    if (m_subscribed && !m_unheard.empty() && now - m_unheard.front().second > m_staleMs) {
        // The inbox stopped delivering: whatever it would have brought is lost. Start again.
        qCWarning(lcBus) << "heartbeat unheard for" << now - m_unheard.front().second << "ms: resubscribing";
        m_connection.reconnect(QStringLiteral("heartbeat stale"));
        return;
    }
    if (!m_subscribed || !m_commands->isReady())
        return;
    const quint64 nonce = m_nextNonce++;
    m_unheard.emplace_back(nonce, now);
    if (m_unheard.size() > kMaxUnheard)
        m_unheard.pop_front();
    m_commands->command(
        {QByteArrayLiteral("PUBLISH"), m_channels.first(), m_heartbeatPrefix + RedisEnvelope::encodeNumber(nonce)},
        this, [this, nonce](const RedisReply &reply) {
            if (reply.isFailed()) {
                // Never published (the command connection went): not a sign against us.
                for (auto it = m_unheard.begin(); it != m_unheard.end(); ++it) {
                    if (it->first == nonce) {
                        m_unheard.erase(it);
                        break;
                    }
                }
                return;
            }
            // 0 receivers: Redis no longer counts us as subscribed although we think we are.
            if (reply.type == RedisReply::Type::Integer && reply.integer == 0 && m_subscribed)
                m_connection.reconnect(QStringLiteral("Redis has no subscriber for our inbox"));
        });
}

bool RedisSubscriber::isHealthy() const
{
    if (!m_subscribed)
        return false;
    return m_unheard.empty() || nowMs() - m_unheard.front().second <= m_staleMs;
}

QString RedisSubscriber::healthDetail() const
{
    if (!m_subscribed)
        return QStringLiteral("not subscribed to Redis");
    if (!isHealthy())
        return QStringLiteral("heartbeat stale");
    return QStringLiteral("ok");
}

} // namespace keyhole::proxy
