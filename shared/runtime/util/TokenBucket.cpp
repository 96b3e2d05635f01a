#include "util/TokenBucket.h"

#include "util/Clock.h"

#include <algorithm>
#include <cmath>
#include <limits>

namespace keyhole::util {

TokenBucket::TokenBucket(double ratePerSec, double burst, const Clock *clock)
    : m_rate(std::max(0.0, ratePerSec))
    , m_burst(std::max(0.0, burst))
    , m_clock(clock ? clock : Clock::system())
    , m_tokens(m_burst)
    , m_lastMs(m_clock->monotonicMs())
{
}

bool TokenBucket::tryTake(double tokens)
{
    refill();
    if (tokens > m_tokens)
        return false;
    m_tokens -= tokens;
    return true;
}

qint64 TokenBucket::msUntilAvailable(double tokens) const
{
    refill();
    if (tokens <= m_tokens)
        return 0;
    // More than the bucket can ever hold, or nothing refills it: never.
    if (tokens > m_burst || m_rate <= 0.0)
        return std::numeric_limits<qint64>::max();
    // The epsilon keeps rounding noise (1.0000000001 ms) from adding a whole millisecond.
    const double ms = std::ceil((tokens - m_tokens) * 1000.0 / m_rate - 1e-6);
    return std::max<qint64>(1, qint64(ms));
}

double TokenBucket::available() const
{
    refill();
    return m_tokens;
}

void TokenBucket::limitTo(double tokens)
{
    refill();
    m_tokens = std::max(0.0, std::min(m_tokens, tokens));
}

void TokenBucket::refill() const
{
    const qint64 now = m_clock->monotonicMs();
    const qint64 elapsed = now - m_lastMs;
    if (elapsed <= 0)
        return;
    m_tokens = std::min(m_burst, m_tokens + double(elapsed) * m_rate / 1000.0);
    m_lastMs = now;
}

} // namespace keyhole::util
