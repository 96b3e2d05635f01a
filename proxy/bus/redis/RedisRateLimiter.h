#pragma once

#include "util/RateLimiter.h"
#include "util/TokenBucket.h"

#include <QObject>
#include <QPointer>
#include <QTimer>

namespace keyhole::proxy {

class RedisConnection;

// A tunnel's token bucket that follows the tunnel from instance to instance, so that a client
// re-registering elsewhere does not start with a full bucket. Every message is decided locally
// (all of a tunnel's traffic passes through the one instance holding it: no round trip per request);
// the state is loaded from keyhole:rate:<label> when the tunnel arrives, and saved at most every
// `saveEveryMs` while it changes and once more when the tunnel leaves. Redis's clock does the refill
// across the gap, so instances' clocks need not agree. At most `saveEveryMs` of use is lost when
// an instance dies.
class RedisRateLimiter : public QObject, public util::RateLimiter
{
    Q_OBJECT

public:
    static constexpr int kSaveEveryMs = 250;

    RedisRateLimiter(const QString &label, double ratePerSec, double burst, const util::Clock *clock,
                     RedisConnection *commands, QObject *parent = nullptr);
    ~RedisRateLimiter() override;

    bool tryAcquire() override;
    qint64 retryAfterMs() const override;
    bool isLoaded() const { return m_loaded; } // the state from Redis has arrived (or there was none)

private:
    void save();

    QByteArray m_key;
    util::TokenBucket m_bucket;
    QPointer<RedisConnection> m_commands;
    QTimer m_saveTimer;
    bool m_dirty = false;
    bool m_loaded = false;
};

} // namespace keyhole::proxy
