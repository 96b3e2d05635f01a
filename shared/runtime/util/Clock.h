#pragma once

#include <QtGlobal>

namespace keyhole::util {

// Wall-clock and monotonic time behind one interface, so limits and timeouts are testable
// without sleeping. Implementations must be thread-safe for reading.
class Clock
{
public:
    virtual ~Clock() = default;
    virtual qint64 monotonicMs() const = 0; // for intervals
    virtual qint64 epochSecs() const = 0;   // for signed claims

    static const Clock *system();
};

// A clock the test moves by hand.
class ManualClock : public Clock
{
public:
    qint64 monotonicMs() const override { return m_ms; }
    qint64 epochSecs() const override { return m_epochBase + m_ms / 1000; }
    void advanceMs(qint64 ms) { m_ms += ms; }
    void setEpochSecs(qint64 secs) { m_epochBase = secs - m_ms / 1000; }

private:
    qint64 m_ms = 0;
    qint64 m_epochBase = 1'700'000'000;
};

} // namespace keyhole::util
