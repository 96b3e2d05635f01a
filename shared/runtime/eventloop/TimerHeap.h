#pragma once

#include <QAbstractEventDispatcher>
#include <QList>
#include <QtGlobal>

#include <cstdint>
#include <memory>
#include <unordered_map>
#include <vector>

class QObject;

namespace keyhole::eventloop {

// The timers of one event dispatcher: an indexed binary min-heap on the firing time, so that
// registering, unregistering and re-arming cost O(log n) and an idle timer costs nothing until it is
// due. Times are nanoseconds on CLOCK_MONOTONIC (the clock Qt's own timers use).
//
// Timer types follow Qt's rules: a CoarseTimer of 20 ms or less is precise, one of 20 s or more is
// very coarse; a coarse timer's firing time is rounded to a boundary (a granularity of at most 5 %
// of its interval) so that timers due close together share one wake-up; a VeryCoarseTimer's
// interval is rounded to whole seconds and it fires on a second boundary. A timer is re-armed from
// the time it was expected, not the time it ran, and skips ticks it missed rather than bursting.
//
// Only the owning thread uses it. Qt allocates and releases timer ids; this class only maps them.
class TimerHeap
{
public:
    struct Timer {
        int id = 0;
        qint64 intervalMs = 0;                // as registered (reported back by timersOf())
        Qt::TimerType type = Qt::CoarseTimer; // as registered
        qint64 effectiveMs = 0;               // a very coarse timer's interval in whole seconds
        Qt::TimerType effectiveType = Qt::CoarseTimer;
        QObject *object = nullptr;
        std::int64_t expectedNs = 0; // when it should fire by its interval
        std::int64_t fireNs = 0;     // when it fires: expectedNs adjusted for its type (the heap key)
        std::uint64_t serial = 0;    // registration order: breaks ties between timers due at once
        std::size_t heapIndex = 0;
        bool inCallback = false; // its timer event is being delivered: a nested loop skips it
    };

    TimerHeap() = default;
    Q_DISABLE_COPY_MOVE(TimerHeap)

    static std::int64_t nowNs();

    // Replaces any timer registered under the same id.
    void add(int id, qint64 intervalMs, Qt::TimerType type, QObject *object, std::int64_t nowNs);
    bool remove(int id);
    bool removeAll(QObject *object);
    QList<QAbstractEventDispatcher::TimerInfo> timersOf(QObject *object) const;
    // Milliseconds until the timer fires (0 if overdue), -1 if there is no such timer.
    int remainingMs(int id, std::int64_t nowNs) const;

    bool isEmpty() const { return m_heap.empty(); }
    std::size_t size() const { return m_heap.size(); }
    // The earliest firing time; only when !isEmpty().
    std::int64_t nextFireNs() const { return m_heap.front().fireNs; }
    // The earliest timer, or null.
    Timer *top() const { return m_heap.empty() ? nullptr : m_heap.front().timer; }
    Timer *find(int id) const;

    // After a timer's expected time has come: moves it to its next expected time after nowNs (a
    // zero timer to just after nowNs, so that it runs once per pass).
    void rearm(Timer *timer, std::int64_t nowNs);

    // Brackets the delivery of a timer's event. The callback may kill the timer (and start another
    // under the same id): endCallback() then has nothing to clear, without looking the id up again.
    void beginCallback(Timer *timer);
    void endCallback();

private:
    // The heap holds each timer's key beside its pointer: sifting compares neighbours in one array
    // instead of chasing a pointer per comparison (with thousands of tunnels' timers, a cache miss
    // each, which made sifting the largest item of an idle proxy's profile).
    struct Entry {
        std::int64_t fireNs;
        std::uint64_t serial;
        Timer *timer;
    };

    void computeFireTime(Timer *timer) const;
    void siftUp(std::size_t index);
    void siftDown(std::size_t index);
    void swapAt(std::size_t a, std::size_t b);
    void removeAt(std::size_t index);
    void forgetObjectTimer(QObject *object, int id);

    using TimersById = std::unordered_map<int, std::unique_ptr<Timer>>;
    using TimerIdsByObject = std::unordered_multimap<QObject *, int>;

    std::vector<Entry> m_heap; // the timers are owned by m_byId
    TimersById m_byId;
    TimerIdsByObject m_byObject;
    // Nodes of removed timers (the first with its Timer), kept to register the next ones: a timer
    // started and stopped per request would otherwise cost three allocations and three frees.
    std::vector<TimersById::node_type> m_spareTimers;
    std::vector<TimerIdsByObject::node_type> m_spareObjectEntries;
    std::uint64_t m_nextSerial = 1;
    std::vector<Timer *> m_inCallback; // timers whose events are being delivered, innermost last; null once removed
};

} // namespace keyhole::eventloop
