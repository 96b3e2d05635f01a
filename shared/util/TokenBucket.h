#pragma once

#include <QtGlobal>

namespace keyhole::util {

class Clock;

// A token bucket: `burst` tokens at most, refilled at `ratePerSec`. Used per tunnel over the
// messages it receives. Not thread-safe; one per tunnel on the owning thread.
class TokenBucket
{
public:
    TokenBucket(double ratePerSec, double burst, const Clock *clock);

    bool tryTake(double tokens = 1.0);
    // How long until `tokens` would be available; 0 when they are now. For Retry-After.
    qint64 msUntilAvailable(double tokens = 1.0) const;
    double available() const;

private:
    void refill() const;

    double m_rate;
    double m_burst;
    const Clock *m_clock;
    mutable double m_tokens;
    mutable qint64 m_lastMs;
};

} // namespace keyhole::util
