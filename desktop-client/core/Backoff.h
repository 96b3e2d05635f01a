#pragma once

#include <QtGlobal>

#include <functional>

namespace keyhole::client {

// Exponential backoff with full jitter (the delay is uniform in [0, ceiling], the ceiling doubles
// from `initialMs` up to `maxMs`), so many clients losing one proxy do not come back in lockstep.
// A small floor keeps an unlucky draw from turning into a busy reconnect loop.
class Backoff
{
public:
    // Returns a number in [0, 1]. Injected by tests; the default uses QRandomGenerator.
    using RandomSource = std::function<double()>;

    static constexpr qint64 kDefaultInitialMs = 1000;
    static constexpr qint64 kDefaultMaxMs = 30000;
    static constexpr qint64 kDefaultFloorMs = 100;

    explicit Backoff(qint64 initialMs = kDefaultInitialMs, qint64 maxMs = kDefaultMaxMs, RandomSource random = {},
                     qint64 floorMs = kDefaultFloorMs);

    // The delay before the next attempt; each call counts as one more failed attempt.
    qint64 nextDelayMs();
    // The ceiling the next call draws below.
    qint64 currentCeilingMs() const;
    int attempts() const { return m_attempts; }
    // After a success: the next delay starts from `initialMs` again.
    void reset() { m_attempts = 0; }

private:
    qint64 m_initialMs;
    qint64 m_maxMs;
    qint64 m_floorMs;
    RandomSource m_random;
    int m_attempts = 0;
};

} // namespace keyhole::client
