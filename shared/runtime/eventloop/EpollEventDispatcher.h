#pragma once

#include "eventloop/TimerHeap.h"

#include <QAbstractEventDispatcher>

#include <sys/epoll.h>

#include <atomic>
#include <cstdint>
#include <vector>

namespace keyhole::eventloop {

// A Linux event dispatcher over epoll, for processes that hold thousands of mostly idle sockets.
//
// Why: Qt's Unix dispatcher rebuilds its pollfd array from every enabled socket notifier and hands
// all of them to ppoll() on each pass of the loop, and walks them all again afterwards; with n idle
// tunnels each pass costs O(n) and, since the number of passes grows with the traffic of n tunnels,
// the idle cost grows with n². Here the kernel keeps the interest set: a pass costs O(ready
// descriptors + due timers + changes since the last pass), and nothing per idle socket or timer.
//
// Socket notifiers are level-triggered. That is QSocketNotifier's own contract (an enabled notifier
// fires for as long as its socket is readable or writable; Qt's sockets rely on it when they leave
// bytes unread or disable and re-enable notifiers), so nothing is lost when a callback reads only
// part of what arrived, and edge-triggered bookkeeping of "ready but not yet drained" is not needed.
// Enabling and disabling a notifier (QAbstractSocket flips its write notifier around every write)
// only marks its descriptor; the interest set is brought up to date with one epoll_ctl() per
// changed descriptor just before the next wait, so a disable followed by an enable costs nothing.
// A write notifier enabled since the last wait is activated before that wait without asking the
// kernel: a socket that has just been given bytes is almost always writable, so QAbstractSocket's
// usual write (notifier on, bytes out, notifier off) then costs one write() and no epoll_ctl() or
// extra pass. A socket that was not writable after all keeps its notifier and is watched as usual.
// When a descriptor's last enabled notifier goes, the descriptor leaves the set at once rather than
// staying with an empty mask: epoll reports hang-ups and errors even for an empty mask, which would
// spin the loop, and the descriptor is usually closed next and its number reused by a new socket,
// which must be added afresh.
// A ready descriptor activates its read notifier on EPOLLIN, its write notifier on EPOLLOUT and its
// exception notifier on EPOLLPRI, and all of them on EPOLLHUP/EPOLLERR, as Qt's Unix dispatcher
// maps poll()'s results.
//
// Timers live in a TimerHeap (O(log n) to register, unregister or re-arm; see there for how Qt's
// timer types are honoured). A pass fires each timer due at its start at most once, so a zero timer
// runs once per pass, and a timer whose event is still being delivered is not fired again by a
// nested loop. Unregistering or re-registering any timer or notifier from inside a callback is safe:
// the next timer is taken from the heap's top after each callback, the heap forgets a removed
// timer that is being delivered, and notifiers are looked up again after the previous one.
//
// wakeUp() and interrupt() may be called from any thread; the wake-up is an eventfd in the epoll
// set, written at most once until the loop has read it. Posted events are sent at the start of every
// pass, and again after a wake-up, through QCoreApplication::sendPostedEvents().
// ExcludeSocketNotifiers waits on the eventfd alone, so ready sockets neither wake nor spin the loop;
// ExcludeUserInputEvents means nothing to a dispatcher without user input.
//
// Why not libuv or libevent (or libev): Qt's notifiers and timers map one to one onto an epoll
// interest set and a heap, which is all this class is. A loop library would bring a second loop with
// its own semantics (its own handles and their lifetimes, its own idea of when timers are due, its
// callbacks' re-entrancy rules) that would have to be bent back into Qt's, plus a dependency on
// every Linux package, for no gain in what the proxy needs.
//
// Create one per thread, before that thread's event loop exists (QCoreApplication::
// setEventDispatcher() for the main thread), and check isValid(); the thread owns it.
class EpollEventDispatcher : public QAbstractEventDispatcher
{
    Q_OBJECT

public:
    explicit EpollEventDispatcher(QObject *parent = nullptr);
    ~EpollEventDispatcher() override;

    // False when the kernel refused the epoll or eventfd descriptor: use Qt's dispatcher then.
    bool isValid() const { return m_epollFd >= 0 && m_wakeFd >= 0; }
    // How many epoll_ctl() calls changed the interest set so far (for tests and profiling).
    std::uint64_t interestSetChanges() const { return m_interestSetChanges; }

    bool processEvents(QEventLoop::ProcessEventsFlags flags) override;

    void registerSocketNotifier(QSocketNotifier *notifier) override;
    void unregisterSocketNotifier(QSocketNotifier *notifier) override;

    void registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object) override;
    bool unregisterTimer(int timerId) override;
    bool unregisterTimers(QObject *object) override;
    QList<TimerInfo> registeredTimers(QObject *object) const override;
    int remainingTime(int timerId) override;

    void wakeUp() override;
    void interrupt() override;

private:
    // The notifiers of one descriptor, indexed by QSocketNotifier::Type; a notifier is here only while
    // it is enabled.
    struct Descriptor {
        QSocketNotifier *notifiers[3] = {nullptr, nullptr, nullptr};
        std::uint32_t registeredEvents = 0; // what the epoll interest set holds for it
        bool dirty = false;                 // in m_dirty: the interest set is to be brought up to date
    };

    void markDirty(int fd);
    void syncInterestSet();
    int activateNewWriteNotifiers();
    int activateNotifiers(const epoll_event *events, int count, bool *wokenUp);
    int activateTimers();
    int waitTimeoutMs(bool canWait, bool includeTimers) const;
    void drainWakeUp();

    int m_epollFd = -1;
    int m_wakeFd = -1;
    std::vector<Descriptor> m_descriptors; // by descriptor number: they are small and dense
    std::vector<int> m_dirty;
    std::vector<epoll_event> m_ready;
    TimerHeap m_timers;
    std::int64_t m_passNs = 0; // when the last timer pass started
    std::uint64_t m_interestSetChanges = 0;
    std::atomic<bool> m_wakeUpPending{false};
    std::atomic<bool> m_interrupted{false};
};

} // namespace keyhole::eventloop
