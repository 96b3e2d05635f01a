#include "eventloop/TimerHeap.h"

#include <QVarLengthArray>

#include <climits>
#include <ctime>

namespace keyhole::eventloop {

namespace {

constexpr std::int64_t kNsPerMs = 1'000'000;
constexpr std::int64_t kNsPerSecond = 1'000'000'000;
// Spare nodes kept after removals: enough for the timers of the requests in flight at once, little
// memory after a burst.
constexpr std::size_t kMaxSpareNodes = 256;

// A coarse timer fires on a multiple of this many milliseconds: the largest step of at most 5 % of
// its interval, so that timers due within a step of each other wake the loop once.
std::int64_t coarseGranularityMs(qint64 intervalMs)
{
    static constexpr std::int64_t steps[] = {1000, 500, 250, 100, 50, 25, 10, 5};
    const std::int64_t slack = intervalMs / 20;
    for (std::int64_t step : steps) {
        if (step <= slack)
            return step;
    }
    return 1;
}

template <typename Entry> bool firesBefore(const Entry &a, const Entry &b)
{
    // Equal times keep registration order, as Qt's timer list does.
    return a.fireNs < b.fireNs || (a.fireNs == b.fireNs && a.serial < b.serial);
}

} // namespace

std::int64_t TimerHeap::nowNs()
{
    timespec ts{};
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return std::int64_t(ts.tv_sec) * kNsPerSecond + ts.tv_nsec;
}

void TimerHeap::add(int id, qint64 intervalMs, Qt::TimerType type, QObject *object, std::int64_t nowNs)
{
    remove(id);
    Timer *timer = nullptr;
    if (m_spareTimers.empty()) {
        timer = m_byId.emplace(id, std::make_unique<Timer>()).first->second.get();
    } else {
        TimersById::node_type node = std::move(m_spareTimers.back());
        m_spareTimers.pop_back();
        node.key() = id;
        *node.mapped() = Timer();
        timer = node.mapped().get();
        m_byId.insert(std::move(node));
    }
    timer->id = id;
    timer->intervalMs = qMax<qint64>(0, intervalMs);
    timer->type = type;
    timer->object = object;
    timer->serial = m_nextSerial++;

    // Qt's promotions: a short coarse timer gains nothing from slack, a long one needs no more than
    // seconds.
    timer->effectiveType = type;
    timer->effectiveMs = timer->intervalMs;
    if (type == Qt::CoarseTimer && timer->intervalMs >= 20'000)
        timer->effectiveType = Qt::VeryCoarseTimer;
    else if (type == Qt::CoarseTimer && timer->intervalMs <= 20)
        timer->effectiveType = Qt::PreciseTimer;
    if (timer->effectiveType == Qt::VeryCoarseTimer)
        timer->effectiveMs = (timer->intervalMs + 500) / 1000 * 1000;

    timer->expectedNs = nowNs + timer->effectiveMs * kNsPerMs;
    computeFireTime(timer);
    if (timer->fireNs <= nowNs && timer->effectiveMs > 0)
        timer->fireNs = timer->expectedNs;

    if (m_spareObjectEntries.empty()) {
        m_byObject.emplace(object, id);
    } else {
        TimerIdsByObject::node_type entry = std::move(m_spareObjectEntries.back());
        m_spareObjectEntries.pop_back();
        entry.key() = object;
        entry.mapped() = id;
        m_byObject.insert(std::move(entry));
    }
    timer->heapIndex = m_heap.size();
    m_heap.push_back({timer->fireNs, timer->serial, timer});
    siftUp(timer->heapIndex);
}

bool TimerHeap::remove(int id)
{
    const auto it = m_byId.find(id);
    if (it == m_byId.end())
        return false;
    Timer *timer = it->second.get();
    for (Timer *&delivering : m_inCallback) {
        if (delivering == timer)
            delivering = nullptr;
    }
    removeAt(timer->heapIndex);
    forgetObjectTimer(timer->object, id);
    if (m_spareTimers.size() < kMaxSpareNodes)
        m_spareTimers.push_back(m_byId.extract(it));
    else
        m_byId.erase(it);
    return true;
}

bool TimerHeap::removeAll(QObject *object)
{
    const auto range = m_byObject.equal_range(object);
    if (range.first == range.second)
        return false;
    QVarLengthArray<int, 8> ids; // an object has a few timers: no allocation to list them
    for (auto it = range.first; it != range.second; ++it)
        ids.push_back(it->second);
    for (int id : ids)
        remove(id);
    return true;
}

QList<QAbstractEventDispatcher::TimerInfo> TimerHeap::timersOf(QObject *object) const
{
    QList<QAbstractEventDispatcher::TimerInfo> list;
    const auto range = m_byObject.equal_range(object);
    for (auto it = range.first; it != range.second; ++it) {
        const Timer *timer = find(it->second);
        if (timer)
            list.append({timer->id, int(qMin<qint64>(timer->intervalMs, INT_MAX)), timer->type});
    }
    return list;
}

int TimerHeap::remainingMs(int id, std::int64_t nowNs) const
{
    const Timer *timer = find(id);
    if (!timer)
        return -1;
    if (timer->fireNs <= nowNs)
        return 0;
    // Rounded up: a timer due in 0.3 ms has not fired yet.
    return int(qMin<std::int64_t>((timer->fireNs - nowNs + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

TimerHeap::Timer *TimerHeap::find(int id) const
{
    const auto it = m_byId.find(id);
    return it == m_byId.end() ? nullptr : it->second.get();
}

void TimerHeap::rearm(Timer *timer, std::int64_t nowNs)
{
    if (timer->effectiveMs == 0) {
        timer->expectedNs = nowNs + 1;
        timer->fireNs = nowNs + 1;
    } else {
        const std::int64_t intervalNs = timer->effectiveMs * kNsPerMs;
        timer->expectedNs += intervalNs;
        if (timer->expectedNs <= nowNs) // late by whole intervals: skip them, keep the phase
            timer->expectedNs += ((nowNs - timer->expectedNs) / intervalNs + 1) * intervalNs;
        computeFireTime(timer);
        if (timer->fireNs <= nowNs)
            timer->fireNs = timer->expectedNs;
    }
    // Only ever later: sifting down is enough.
    m_heap[timer->heapIndex].fireNs = timer->fireNs;
    siftDown(timer->heapIndex);
}

void TimerHeap::beginCallback(Timer *timer)
{
    timer->inCallback = true;
    m_inCallback.push_back(timer);
}

void TimerHeap::endCallback()
{
    if (Timer *timer = m_inCallback.back())
        timer->inCallback = false;
    m_inCallback.pop_back();
}

void TimerHeap::computeFireTime(Timer *timer) const
{
    switch (timer->effectiveType) {
    case Qt::PreciseTimer:
        timer->fireNs = timer->expectedNs;
        break;
    case Qt::CoarseTimer: {
        const std::int64_t step = coarseGranularityMs(timer->effectiveMs) * kNsPerMs;
        timer->fireNs = (timer->expectedNs + step / 2) / step * step;
        break;
    }
    case Qt::VeryCoarseTimer:
        timer->fireNs = timer->expectedNs / kNsPerSecond * kNsPerSecond;
        break;
    }
}

void TimerHeap::siftUp(std::size_t index)
{
    while (index > 0) {
        const std::size_t parent = (index - 1) / 2;
        if (!firesBefore(m_heap[index], m_heap[parent]))
            break;
        swapAt(index, parent);
        index = parent;
    }
}

void TimerHeap::siftDown(std::size_t index)
{
    const std::size_t count = m_heap.size();
    for (;;) {
        std::size_t smallest = index;
        const std::size_t left = 2 * index + 1;
        const std::size_t right = left + 1;
        if (left < count && firesBefore(m_heap[left], m_heap[smallest]))
            smallest = left;
        if (right < count && firesBefore(m_heap[right], m_heap[smallest]))
            smallest = right;
        if (smallest == index)
            break;
        swapAt(index, smallest);
        index = smallest;
    }
}

void TimerHeap::swapAt(std::size_t a, std::size_t b)
{
    std::swap(m_heap[a], m_heap[b]);
    m_heap[a].timer->heapIndex = a;
    m_heap[b].timer->heapIndex = b;
}

void TimerHeap::removeAt(std::size_t index)
{
    const std::size_t last = m_heap.size() - 1;
    if (index != last) {
        swapAt(index, last);
        m_heap.pop_back();
        siftDown(index);
        siftUp(index);
    } else {
        m_heap.pop_back();
    }
}

void TimerHeap::forgetObjectTimer(QObject *object, int id)
{
    auto range = m_byObject.equal_range(object);
    for (auto it = range.first; it != range.second; ++it) {
        if (it->second == id) {
            if (m_spareObjectEntries.size() < kMaxSpareNodes)
                m_spareObjectEntries.push_back(m_byObject.extract(it));
            else
                m_byObject.erase(it);
            return;
        }
    }
}

} // namespace keyhole::eventloop
