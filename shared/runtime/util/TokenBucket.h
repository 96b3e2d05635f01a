#pragma once

#include "util/RateLimiter.h"

#include <QtGlobal>

namespace keyhole::util {

class Clock;

// A token bucket: `burst` tokens at most, refilled at `ratePerSec`. Used per tunnel over the
// messages it receives. Not thread-safe; one per tunnel on the owning thread.
class TokenBucket : public RateLimiter
{
public:
    TokenBucket(double ratePerSec, double burst, const Clock *clock);

    bool tryTake(double tokens = 1.0);
    // How long until `tokens` would be available; 0 when they are now. For Retry-After.
    qint64 msUntilAvailable(double tokens = 1.0) const;
    double available() const;
    // Lowers the bucket to `tokens` if it holds more: state carried over from elsewhere.
    void limitTo(double tokens);
    double burst() const { return m_burst; }
    double rate() const { return m_rate; }

    bool tryAcquire() override { return tryTake(1.0); }
    qint64 retryAfterMs() const override { return msUntilAvailable(1.0); }

private:
    void refill() const;

    double m_rate;
    double m_burst;
    const Clock *m_clock;
    mutable double m_tokens;
    mutable qint64 m_lastMs;
};

} // namespace keyhole::util
