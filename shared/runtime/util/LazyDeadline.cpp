#include "util/LazyDeadline.h"

#include <limits>

namespace keyhole::util {

LazyDeadline::LazyDeadline(QObject *parent)
    : QObject(parent)
{
    m_clock.start();
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &LazyDeadline::onTimer);
}

void LazyDeadline::start(int ms)
{
    const qint64 due = m_clock.elapsed() + qMax(ms, 0);
    m_dueMs = due;
    if (!m_timer.isActive() || m_timerDueMs > due) {
        m_timer.start(qMax(ms, 0));
        m_timerDueMs = due;
    }
}

void LazyDeadline::stop()
{
    // The timer may keep running: when it fires it finds nothing due and stays quiet.
    m_dueMs = -1;
}

void LazyDeadline::onTimer()
{
    if (m_dueMs < 0)
        return;
    const qint64 now = m_clock.elapsed();
    if (now < m_dueMs) {
        m_timer.start(int(qMin<qint64>(m_dueMs - now, std::numeric_limits<int>::max())));
        m_timerDueMs = m_dueMs;
        return;
    }
    m_dueMs = -1;
    emit expired();
}

} // namespace keyhole::util
