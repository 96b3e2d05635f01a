#include "bus/redis/RedisFlowControl.h"

#include "bus/BusLogging.h"

#include <chrono>

namespace keyhole::proxy {

namespace {
qint64 nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}
} // namespace

RedisFlowControl::RedisFlowControl(const Limits &limits, QObject *parent)
    : QObject(parent)
    , m_limits(limits)
{
    m_flush.setSingleShot(true);
    connect(&m_flush, &QTimer::timeout, this, &RedisFlowControl::flushCredits);
    connect(&m_sweep, &QTimer::timeout, this, &RedisFlowControl::sweep);
    m_sweep.start(qMax(100, m_limits.forgetMs / 4));
}

void RedisFlowControl::sent(const QByteArray &destination, qint64 bytes)
{
    qint64 &outstanding = m_outstanding[destination];
    if (outstanding == 0)
        m_lastCreditMs[destination] = nowMs(); // the forgiveness clock starts with the first byte owed
    outstanding += bytes;
}

void RedisFlowControl::undelivered(const QByteArray &destination, qint64 bytes)
{
    const bool was = congested(destination);
    m_outstanding[destination] = qMax<qint64>(0, m_outstanding.value(destination) - bytes);
    settle(destination, was);
}

void RedisFlowControl::moved(const QByteArray &from, const QByteArray &to, qint64 bytes)
{
    if (from == to)
        return;
    undelivered(from, bytes);
    sent(to, bytes);
}

void RedisFlowControl::credited(const QByteArray &destination, qint64 bytes)
{
    const bool was = congested(destination);
    m_outstanding[destination] = qMax<qint64>(0, m_outstanding.value(destination) - bytes);
    m_lastCreditMs[destination] = nowMs();
    settle(destination, was);
}

void RedisFlowControl::settle(const QByteArray &destination, bool wasCongested)
{
    if (m_outstanding.value(destination) == 0) {
        m_outstanding.remove(destination);
        m_lastCreditMs.remove(destination);
    }
    if (wasCongested && !congested(destination))
        Q_EMIT resumed();
}

bool RedisFlowControl::congested(const QByteArray &destination) const
{
    return m_outstanding.value(destination) >= m_limits.window;
}

bool RedisFlowControl::overHardLimit(const QByteArray &destination) const
{
    return m_outstanding.value(destination) >= m_limits.hardLimit;
}

void RedisFlowControl::forgetAll()
{
    const bool any = !m_outstanding.isEmpty();
    m_outstanding.clear();
    m_lastCreditMs.clear();
    m_owed.clear();
    if (any)
        Q_EMIT resumed();
}

void RedisFlowControl::received(const QByteArray &source, qint64 bytes)
{
    qint64 &owed = m_owed[source];
    owed += bytes;
    if (owed >= m_limits.creditChunk) {
        const qint64 credit = owed;
        m_owed.remove(source);
        Q_EMIT creditDue(source, credit);
        return;
    }
    if (!m_flush.isActive())
        m_flush.start(m_limits.creditFlushMs);
}

void RedisFlowControl::flushCredits()
{
    const auto owed = std::exchange(m_owed, {});
    for (auto it = owed.cbegin(); it != owed.cend(); ++it)
        Q_EMIT creditDue(it.key(), it.value());
}

void RedisFlowControl::sweep()
{
    const qint64 now = nowMs();
    const auto keys = m_outstanding.keys();
    for (const QByteArray &destination : keys) {
        if (destination.isEmpty())
            continue; // bytes whose destination is not known yet settle when the route answers
        if (now - m_lastCreditMs.value(destination, now) > m_limits.forgetMs) {
            qCDebug(lcBus) << "instance" << destination << "stopped crediting" << m_outstanding.value(destination)
                           << "bytes: forgotten";
            const bool was = congested(destination);
            m_outstanding.remove(destination);
            m_lastCreditMs.remove(destination);
            if (was)
                Q_EMIT resumed();
        }
    }
}

} // namespace keyhole::proxy
