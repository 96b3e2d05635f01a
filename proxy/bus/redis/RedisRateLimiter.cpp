#include "bus/redis/RedisRateLimiter.h"

#include "bus/redis/RedisConnection.h"
#include "bus/redis/RedisKeys.h"
#include "bus/redis/RedisScripts.h"

#include <cmath>

namespace keyhole::proxy {

RedisRateLimiter::RedisRateLimiter(const QString &label, double ratePerSec, double burst, const util::Clock *clock,
                                   RedisConnection *commands, QObject *parent)
    : QObject(parent)
    , m_key(RedisKeys::rate(label))
    , m_bucket(ratePerSec, burst, clock)
    , m_commands(commands)
{
    m_saveTimer.setSingleShot(true);
    connect(&m_saveTimer, &QTimer::timeout, this, &RedisRateLimiter::save);
    if (!m_commands || !m_commands->isReady())
        return;
    RedisScripts::run(m_commands, RedisScripts::Script::RateLoad, {m_key},
                      {QByteArray::number(ratePerSec, 'f', 6), QByteArray::number(burst, 'f', 6)}, this,
                      [this](const RedisReply &reply) {
                          m_loaded = true;
                          bool ok = false;
                          const double tokens = reply.text.toDouble(&ok);
                          if (reply.type == RedisReply::Type::String && ok && std::isfinite(tokens))
                              m_bucket.limitTo(tokens);
                      });
}

RedisRateLimiter::~RedisRateLimiter()
{
    if (m_dirty)
        save();
}

bool RedisRateLimiter::tryAcquire()
{
    const bool ok = m_bucket.tryAcquire();
    m_dirty = true;
    if (!m_saveTimer.isActive())
        m_saveTimer.start(kSaveEveryMs);
    return ok;
}

qint64 RedisRateLimiter::retryAfterMs() const
{
    return m_bucket.retryAfterMs();
}

void RedisRateLimiter::save()
{
    m_dirty = false;
    if (!m_commands || !m_commands->isReady())
        return;
    // Kept until the bucket would be full again anyway.
    const double rate = m_bucket.rate();
    const qint64 ttlMs = rate > 0 ? qint64(std::ceil(m_bucket.burst() * 1000.0 / rate)) + 1000 : 3600 * 1000;
    RedisScripts::run(
        m_commands, RedisScripts::Script::RateSave, {m_key},
        {QByteArray::number(m_bucket.available(), 'f', 3), QByteArray::number(qMin<qint64>(ttlMs, 86400000))}, nullptr,
        {});
}

} // namespace keyhole::proxy
