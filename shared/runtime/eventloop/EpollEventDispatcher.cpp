#include "eventloop/EpollEventDispatcher.h"

#include <QCoreApplication>
#include <QLoggingCategory>
#include <QSocketNotifier>
#include <QThread>
#include <QTimerEvent>

#include <algorithm>
#include <cerrno>
#include <climits>
#include <poll.h>
#include <sys/eventfd.h>
#include <unistd.h>

Q_DECLARE_LOGGING_CATEGORY(lcEventLoop)
Q_LOGGING_CATEGORY(lcEventLoop, "keyhole.eventloop", QtInfoMsg)

namespace keyhole::eventloop {

namespace {

constexpr int kMaxReadyPerWait = 512; // more stay ready (level-triggered) for the next pass
constexpr std::int64_t kNsPerMs = 1'000'000;

constexpr std::uint32_t kInterest[3] = {EPOLLIN, EPOLLOUT, EPOLLPRI}; // by QSocketNotifier::Type
// What activates a notifier of each type: a hang-up or an error wakes all of them, as with poll().
constexpr std::uint32_t kActivates[3] = {EPOLLIN | EPOLLHUP | EPOLLERR, EPOLLOUT | EPOLLHUP | EPOLLERR,
                                         EPOLLPRI | EPOLLHUP | EPOLLERR};

const char *typeName(QSocketNotifier::Type type)
{
    switch (type) {
    case QSocketNotifier::Read:
        return "read";
    case QSocketNotifier::Write:
        return "write";
    case QSocketNotifier::Exception:
        return "exception";
    }
    return "?";
}

} // namespace

EpollEventDispatcher::EpollEventDispatcher(QObject *parent)
    : QAbstractEventDispatcher(parent)
    , m_ready(kMaxReadyPerWait)
{
    m_epollFd = epoll_create1(EPOLL_CLOEXEC);
    if (m_epollFd < 0) {
        qCWarning(lcEventLoop) << "epoll_create1 failed:" << qt_error_string(errno);
        return;
    }
    m_wakeFd = eventfd(0, EFD_CLOEXEC | EFD_NONBLOCK);
    if (m_wakeFd < 0) {
        qCWarning(lcEventLoop) << "eventfd failed:" << qt_error_string(errno);
        return;
    }
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = m_wakeFd;
    if (epoll_ctl(m_epollFd, EPOLL_CTL_ADD, m_wakeFd, &event) != 0) {
        qCWarning(lcEventLoop) << "epoll_ctl on the wake-up descriptor failed:" << qt_error_string(errno);
        ::close(m_wakeFd);
        m_wakeFd = -1;
    }
}

EpollEventDispatcher::~EpollEventDispatcher()
{
    if (m_wakeFd >= 0)
        ::close(m_wakeFd);
    if (m_epollFd >= 0)
        ::close(m_epollFd);
}

bool EpollEventDispatcher::processEvents(QEventLoop::ProcessEventsFlags flags)
{
    m_interrupted.store(false, std::memory_order_relaxed);
    QCoreApplication::sendPostedEvents();

    const bool includeTimers = !(flags & QEventLoop::X11ExcludeTimers);
    const bool includeNotifiers = !(flags & QEventLoop::ExcludeSocketNotifiers);
    int activated = includeNotifiers ? activateNewWriteNotifiers() : 0;
    // Having delivered something, the pass must not block: its caller is waiting for what came.
    const bool canWait = (flags & QEventLoop::WaitForMoreEvents) && activated == 0
        && !m_interrupted.load(std::memory_order_relaxed);
    if (canWait)
        emit aboutToBlock();
    if (m_interrupted.load(std::memory_order_relaxed))
        return false;

    const int timeoutMs = waitTimeoutMs(canWait, includeTimers);
    bool wokenUp = false;
    if (includeNotifiers) {
        syncInterestSet();
        const int count = epoll_wait(m_epollFd, m_ready.data(), int(m_ready.size()), timeoutMs);
        if (canWait)
            emit awake();
        if (count < 0 && errno != EINTR)
            qCWarning(lcEventLoop) << "epoll_wait failed:" << qt_error_string(errno);
        else if (count > 0)
            activated += activateNotifiers(m_ready.data(), count, &wokenUp);
    } else {
        // Ready sockets must neither wake nor spin the loop: wait for a wake-up alone.
        pollfd wake{m_wakeFd, POLLIN, 0};
        const int count = ::poll(&wake, 1, timeoutMs);
        if (canWait)
            emit awake();
        if (count > 0 && (wake.revents & POLLIN)) {
            drainWakeUp();
            wokenUp = true;
        }
    }
    if (wokenUp) {
        ++activated;
        // Whatever another thread posted is delivered by this call, not one pass later.
        if (!m_interrupted.load(std::memory_order_relaxed))
            QCoreApplication::sendPostedEvents();
    }
    if (includeTimers && !m_interrupted.load(std::memory_order_relaxed))
        activated += activateTimers();
    return activated > 0;
}

void EpollEventDispatcher::registerSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const qintptr socket = notifier->socket();
    const int type = int(notifier->type());
    if (socket < 0 || socket > INT_MAX || type < 0 || type > 2) {
        qCWarning(lcEventLoop) << "refusing a socket notifier on descriptor" << socket;
        return;
    }
    const int fd = int(socket);
    if (std::size_t(fd) >= m_descriptors.size())
        m_descriptors.resize(std::size_t(fd) + 1);
    Descriptor &descriptor = m_descriptors[std::size_t(fd)];
    if (descriptor.notifiers[type] && descriptor.notifiers[type] != notifier)
        qCWarning(lcEventLoop, "multiple %s notifiers for descriptor %d", typeName(notifier->type()), fd);
    descriptor.notifiers[type] = notifier;
    markDirty(fd);
}

void EpollEventDispatcher::unregisterSocketNotifier(QSocketNotifier *notifier)
{
    Q_ASSERT(notifier);
    const qintptr socket = notifier->socket();
    const int type = int(notifier->type());
    if (socket < 0 || std::size_t(socket) >= m_descriptors.size() || type < 0 || type > 2)
        return;
    const int fd = int(socket);
    Descriptor &descriptor = m_descriptors[std::size_t(fd)];
    if (descriptor.notifiers[type] != notifier)
        return;
    descriptor.notifiers[type] = nullptr;
    if (!descriptor.notifiers[0] && !descriptor.notifiers[1] && !descriptor.notifiers[2]) {
        // Leave the interest set now, not at the next sync: the descriptor is usually closed next and
        // its number reused by a new socket, which must then be added afresh, not found "unchanged".
        if (descriptor.registeredEvents != 0) {
            epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, nullptr);
            ++m_interestSetChanges;
        }
        descriptor.registeredEvents = 0;
        return;
    }
    markDirty(fd);
}

void EpollEventDispatcher::registerTimer(int timerId, qint64 interval, Qt::TimerType timerType, QObject *object)
{
    if (timerId < 1 || interval < 0 || !object) {
        qCWarning(lcEventLoop) << "refusing timer" << timerId << "of" << interval << "ms";
        return;
    }
    // A timer registered from inside a timer pass waits for the next pass, even a zero timer.
    m_timers.add(timerId, interval, timerType, object, std::max(TimerHeap::nowNs(), m_passNs + 1));
}

bool EpollEventDispatcher::unregisterTimer(int timerId)
{
    return m_timers.remove(timerId);
}

bool EpollEventDispatcher::unregisterTimers(QObject *object)
{
    return m_timers.removeAll(object);
}

QList<QAbstractEventDispatcher::TimerInfo> EpollEventDispatcher::registeredTimers(QObject *object) const
{
    return m_timers.timersOf(object);
}

int EpollEventDispatcher::remainingTime(int timerId)
{
    return m_timers.remainingMs(timerId, TimerHeap::nowNs());
}

void EpollEventDispatcher::wakeUp()
{
    // One write until the loop has read it: a burst of posts from other threads costs one system call.
    if (m_wakeUpPending.exchange(true, std::memory_order_acq_rel))
        return;
    const std::uint64_t one = 1;
    ssize_t written;
    do {
        written = ::write(m_wakeFd, &one, sizeof one);
    } while (written < 0 && errno == EINTR);
}

void EpollEventDispatcher::interrupt()
{
    m_interrupted.store(true, std::memory_order_relaxed);
    wakeUp();
}

void EpollEventDispatcher::markDirty(int fd)
{
    Descriptor &descriptor = m_descriptors[std::size_t(fd)];
    if (!descriptor.dirty) {
        descriptor.dirty = true;
        m_dirty.push_back(fd);
    }
}

void EpollEventDispatcher::syncInterestSet()
{
    for (int fd : m_dirty) {
        Descriptor &descriptor = m_descriptors[std::size_t(fd)];
        descriptor.dirty = false;
        std::uint32_t wanted = 0;
        for (int type = 0; type < 3; ++type) {
            if (descriptor.notifiers[type])
                wanted |= kInterest[type];
        }
        if (wanted == descriptor.registeredEvents)
            continue;
        epoll_event event{};
        event.events = wanted;
        event.data.fd = fd;
        ++m_interestSetChanges;
        if (wanted == 0) {
            // Closed already (the kernel dropped it then) or not ours: nothing left to undo either way.
            epoll_ctl(m_epollFd, EPOLL_CTL_DEL, fd, nullptr);
            descriptor.registeredEvents = 0;
            continue;
        }
        int result;
        if (descriptor.registeredEvents == 0) {
            result = epoll_ctl(m_epollFd, EPOLL_CTL_ADD, fd, &event);
            if (result != 0 && errno == EEXIST)
                result = epoll_ctl(m_epollFd, EPOLL_CTL_MOD, fd, &event);
        } else {
            result = epoll_ctl(m_epollFd, EPOLL_CTL_MOD, fd, &event);
            // The descriptor was closed and its number reused before we saw the notifier go.
            if (result != 0 && errno == ENOENT)
                result = epoll_ctl(m_epollFd, EPOLL_CTL_ADD, fd, &event);
        }
        if (result == 0) {
            descriptor.registeredEvents = wanted;
        } else {
            qCWarning(lcEventLoop, "cannot watch descriptor %d: %s", fd, qPrintable(qt_error_string(errno)));
            descriptor.registeredEvents = 0;
        }
    }
    m_dirty.clear();
}

int EpollEventDispatcher::activateNewWriteNotifiers()
{
    int activated = 0;
    // By index and looked up afresh: a callback may enable more notifiers (appending to m_dirty),
    // disable or delete this one, or grow m_descriptors. A descriptor is in m_dirty once until the
    // sync, so each is tried once per pass; one left enabled (the socket was full) is in the
    // interest set after the sync and waits for EPOLLOUT like any other.
    for (std::size_t i = 0; i < m_dirty.size(); ++i) {
        if (m_interrupted.load(std::memory_order_relaxed))
            break;
        const Descriptor &descriptor = m_descriptors[std::size_t(m_dirty[i])];
        QSocketNotifier *notifier = descriptor.notifiers[QSocketNotifier::Write];
        if (!notifier || (descriptor.registeredEvents & EPOLLOUT))
            continue;
        QEvent event(QEvent::SockAct);
        QCoreApplication::sendEvent(notifier, &event);
        ++activated;
    }
    return activated;
}

int EpollEventDispatcher::activateNotifiers(const epoll_event *events, int count, bool *wokenUp)
{
    int activated = 0;
    for (int i = 0; i < count; ++i) {
        const int fd = events[i].data.fd;
        if (fd == m_wakeFd) {
            drainWakeUp();
            *wokenUp = true;
            continue;
        }
        for (int type = 0; type < 3; ++type) {
            // Level-triggered: what an interrupt leaves undelivered is reported again next pass.
            if (m_interrupted.load(std::memory_order_relaxed))
                return activated;
            if (!(events[i].events & kActivates[type]))
                continue;
            // Looked up afresh each time: the previous callback may have disabled, deleted or
            // replaced any notifier, or grown m_descriptors.
            if (std::size_t(fd) >= m_descriptors.size())
                break;
            QSocketNotifier *notifier = m_descriptors[std::size_t(fd)].notifiers[type];
            if (!notifier)
                continue;
            QEvent event(QEvent::SockAct);
            QCoreApplication::sendEvent(notifier, &event);
            ++activated;
        }
    }
    return activated;
}

int EpollEventDispatcher::activateTimers()
{
    int fired = 0;
    m_passNs = TimerHeap::nowNs();
    for (TimerHeap::Timer *timer = m_timers.top(); timer && timer->fireNs <= m_passNs; timer = m_timers.top()) {
        if (m_interrupted.load(std::memory_order_relaxed))
            break;
        m_timers.rearm(timer, m_passNs); // now later than m_passNs: fires at most once in this pass
        if (timer->inCallback)
            continue; // its event is on the stack below this nested loop
        m_timers.beginCallback(timer);
        QTimerEvent event(timer->id);
        QCoreApplication::sendEvent(timer->object, &event);
        m_timers.endCallback();
        ++fired;
    }
    return fired;
}

int EpollEventDispatcher::waitTimeoutMs(bool canWait, bool includeTimers) const
{
    if (!canWait)
        return 0;
    if (!includeTimers || m_timers.isEmpty())
        return -1;
    const std::int64_t waitNs = m_timers.nextFireNs() - TimerHeap::nowNs();
    if (waitNs <= 0)
        return 0;
    // Rounded up: waking before the timer is due would only spin.
    return int(std::min<std::int64_t>((waitNs + kNsPerMs - 1) / kNsPerMs, INT_MAX));
}

void EpollEventDispatcher::drainWakeUp()
{
    std::uint64_t value = 0;
    ssize_t result;
    do {
        result = ::read(m_wakeFd, &value, sizeof value);
    } while (result < 0 && errno == EINTR);
    m_wakeUpPending.store(false, std::memory_order_release);
}

} // namespace keyhole::eventloop
