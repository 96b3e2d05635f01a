#include "Backoff.h"

#include <QRandomGenerator>

#include <algorithm>

namespace keyhole::client {

Backoff::Backoff(qint64 initialMs, qint64 maxMs, RandomSource random, qint64 floorMs)
    : m_initialMs(std::max<qint64>(1, initialMs))
    , m_maxMs(std::max(m_initialMs, maxMs))
    , m_floorMs(std::clamp<qint64>(floorMs, 0, m_initialMs))
    , m_random(std::move(random))
{
    if (!m_random)
        m_random = [] { return QRandomGenerator::global()->generateDouble(); };
}

qint64 Backoff::currentCeilingMs() const
{
    // Double without overflowing: stop as soon as the cap is reached.
    qint64 ceiling = m_initialMs;
    for (int i = 0; i < m_attempts && ceiling < m_maxMs; ++i)
        ceiling *= 2;
    return std::min(ceiling, m_maxMs);
}

qint64 Backoff::nextDelayMs()
{
    const qint64 ceiling = currentCeilingMs();
    const double r = std::clamp(m_random(), 0.0, 1.0);
    if (m_attempts < 64)
        ++m_attempts;
    const auto delay = static_cast<qint64>(r * static_cast<double>(ceiling));
    return std::clamp(delay, m_floorMs, ceiling);
}

} // namespace keyhole::client
