#include "util/Clock.h"

#include <QDateTime>
#include <QElapsedTimer>

namespace keyhole::util {

namespace {

class SystemClock : public Clock
{
public:
    SystemClock() { m_timer.start(); }

    // QElapsedTimer::elapsed() only reads, so concurrent callers are fine.
    qint64 monotonicMs() const override { return m_timer.elapsed(); }
    qint64 epochSecs() const override { return QDateTime::currentSecsSinceEpoch(); }

private:
    QElapsedTimer m_timer;
};

} // namespace

const Clock *Clock::system()
{
    static const SystemClock clock;
    return &clock;
}

} // namespace keyhole::util
