// The epoll event dispatcher, installed as the main thread's dispatcher before the application
// exists, as the programs install it: QTest's own waiting (QTRY_*, QSignalSpy::wait) runs on it too.
// Modelled on what Qt's own dispatcher tests check: notifiers of each type, enabled, disabled and
// deleted from callbacks; timers of each type, zero timers, timers killed or restarted from
// callbacks; remainingTime, registeredTimers; wakeUp and interrupt from another thread; the
// processEvents flags; posted events, deleteLater, QTimer and a TCP round trip.

#include "eventloop/EpollEventDispatcher.h"
#include "eventloop/TimerHeap.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QEventLoop>
#include <QPointer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QSocketNotifier>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>
#include <QtTest>

#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstdlib>
#include <functional>
#include <thread>

using keyhole::eventloop::EpollEventDispatcher;
using keyhole::eventloop::TimerHeap;

namespace {

// Two connected local stream sockets, closed on destruction.
struct SocketPair {
    int fds[2] = {-1, -1};
    SocketPair() { ::socketpair(AF_UNIX, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0, fds); }
    ~SocketPair() { closeBoth(); }
    void closeBoth()
    {
        for (int &fd : fds) {
            if (fd >= 0)
                ::close(fd);
            fd = -1;
        }
    }
    bool valid() const { return fds[0] >= 0 && fds[1] >= 0; }
    bool send(const char *bytes, int count = 1) const { return ::write(fds[0], bytes, size_t(count)) == count; }
};

// Calls a function on each timer event, and counts them.
class TimerTarget : public QObject
{
public:
    std::function<void(int timerId)> onTimer;
    QList<int> fired;

protected:
    void timerEvent(QTimerEvent *event) override
    {
        fired.append(event->timerId());
        if (onTimer)
            onTimer(event->timerId());
    }
};

class CustomEvent : public QEvent
{
public:
    static QEvent::Type kind() { return QEvent::Type(QEvent::User + 14); }
    CustomEvent()
        : QEvent(kind())
    {
    }
};

class EventCounter : public QObject
{
public:
    int count = 0;
    bool event(QEvent *event) override
    {
        if (event->type() == CustomEvent::kind()) {
            ++count;
            return true;
        }
        return QObject::event(event);
    }
};

EpollEventDispatcher *dispatcher()
{
    return qobject_cast<EpollEventDispatcher *>(QAbstractEventDispatcher::instance());
}

// Runs passes without waiting until the condition holds or the time is up.
bool runUntil(const std::function<bool()> &condition, int timeoutMs = 5000)
{
    QElapsedTimer clock;
    clock.start();
    while (!condition()) {
        if (clock.elapsed() > timeoutMs)
            return false;
        QCoreApplication::processEvents(QEventLoop::WaitForMoreEvents);
    }
    return true;
}

} // namespace

class TestEpollEventDispatcher : public QObject
{
    Q_OBJECT

private slots:
    void isTheMainThreadDispatcher();

    // Socket notifiers
    void readAndWriteNotifiers();
    void levelTriggeredUntilDrained();
    void disabledFromOwnCallback();
    void reenabledFromOwnCallback();
    void deletedFromAnotherCallback();
    void deletedBySiblingOnSameDescriptor();
    void hangUpActivatesRead();
    void exceptionNotifierOnUrgentData();
    void excludeSocketNotifiers();
    void excludeSocketNotifiersWaitsForTimers();

    // Timers
    void timerTypes_data();
    void timerTypes();
    void zeroTimerRunsOncePerPass();
    void killedFromOwnCallback();
    void killedFromAnotherTimersCallback();
    void restartedFromOwnCallback();
    void rearmedFromExpectedTime();
    void nestedLoopDoesNotRefireRunningTimer();
    void restartedTimerRunsInNestedLoop();
    void remainingTime();
    void registeredTimers();
    void unregisterTimersOfObject();
    void timerHeapOrder();
    void timerHeapReusesRemovedTimers();

    // Waking, interrupting, posted events
    void waitForMoreEventsBlocksUntilTimer();
    void aboutToBlockAndAwake();
    void wakeUpFromAnotherThread();
    void postedFromAnotherThread();
    void interruptFromAnotherThread();
    void interruptFromCallbackStopsThePass();
    void postedEvents();
    void deleteLater();
    void singleShot();
    void tcpRoundTrip();
    void writesWithoutInterestSetChanges();
};

void TestEpollEventDispatcher::isTheMainThreadDispatcher()
{
    QVERIFY(dispatcher());
    QVERIFY(dispatcher()->isValid());
}

void TestEpollEventDispatcher::readAndWriteNotifiers()
{
    SocketPair pair;
    QVERIFY(pair.valid());
    QSocketNotifier writable(pair.fds[0], QSocketNotifier::Write);
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    QSignalSpy writeSpy(&writable, &QSocketNotifier::activated);
    QSignalSpy readSpy(&readable, &QSocketNotifier::activated);

    QVERIFY(writeSpy.wait(2000)); // an empty socket is writable at once
    QCOMPARE(readSpy.count(), 0); // nothing to read yet
    writable.setEnabled(false);

    QVERIFY(pair.send("x"));
    QVERIFY(readSpy.wait(2000));
    QCOMPARE(readSpy.first().first().value<QSocketDescriptor>(), QSocketDescriptor(pair.fds[1]));
    QCOMPARE(readSpy.first().at(1).value<QSocketNotifier::Type>(), QSocketNotifier::Read);
}

void TestEpollEventDispatcher::levelTriggeredUntilDrained()
{
    SocketPair pair;
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    int activations = 0;
    connect(&readable, &QSocketNotifier::activated, this, [&] {
        char byte;
        if (::read(pair.fds[1], &byte, 1) == 1) // one byte per activation: the rest must fire again
            ++activations;
    });
    QVERIFY(pair.send("abc", 3));
    QVERIFY(runUntil([&] { return activations == 3; }));
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(activations, 3);
}

void TestEpollEventDispatcher::disabledFromOwnCallback()
{
    SocketPair pair;
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    int activations = 0;
    connect(&readable, &QSocketNotifier::activated, this, [&] {
        ++activations;
        readable.setEnabled(false); // leaves the byte unread: a live notifier would fire every pass
    });
    QVERIFY(pair.send("x"));
    QVERIFY(runUntil([&] { return activations > 0; }));
    for (int i = 0; i < 10; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(activations, 1);

    readable.setEnabled(true); // still unread: fires again
    QVERIFY(runUntil([&] { return activations == 2; }));
}

void TestEpollEventDispatcher::reenabledFromOwnCallback()
{
    SocketPair pair;
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    int activations = 0;
    connect(&readable, &QSocketNotifier::activated, this, [&] {
        ++activations;
        // What QAbstractSocket does around a read: off, then on again in the same callback.
        readable.setEnabled(false);
        readable.setEnabled(true);
        char byte;
        (void)::read(pair.fds[1], &byte, 1);
    });
    QVERIFY(pair.send("ab", 2));
    QVERIFY(runUntil([&] { return activations == 2; }));
    QVERIFY(pair.send("c"));
    QVERIFY(runUntil([&] { return activations == 3; }));
}

void TestEpollEventDispatcher::deletedFromAnotherCallback()
{
    SocketPair first;
    SocketPair second;
    auto *a = new QSocketNotifier(first.fds[1], QSocketNotifier::Read);
    auto *b = new QSocketNotifier(second.fds[1], QSocketNotifier::Read);
    QPointer<QSocketNotifier> pa(a);
    QPointer<QSocketNotifier> pb(b);
    int activations = 0;
    // Both ready in the same pass; whichever runs first deletes the other, which must not run.
    connect(a, &QSocketNotifier::activated, this, [&] {
        ++activations;
        delete pb.data();
        a->setEnabled(false);
    });
    connect(b, &QSocketNotifier::activated, this, [&] {
        ++activations;
        delete pa.data();
        b->setEnabled(false);
    });
    QVERIFY(first.send("x"));
    QVERIFY(second.send("y"));
    QVERIFY(runUntil([&] { return activations > 0; }));
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(activations, 1);
    QVERIFY(pa.isNull() != pb.isNull());
    delete pa.data();
    delete pb.data();
}

void TestEpollEventDispatcher::deletedBySiblingOnSameDescriptor()
{
    // One descriptor both readable and writable, so one epoll event for both notifiers: whichever
    // runs first deletes the other, which must not be activated from a stale pointer.
    SocketPair pair;
    auto *reader = new QSocketNotifier(pair.fds[1], QSocketNotifier::Read);
    auto *writer = new QSocketNotifier(pair.fds[1], QSocketNotifier::Write);
    QPointer<QSocketNotifier> pr(reader);
    QPointer<QSocketNotifier> pw(writer);
    int activations = 0;
    connect(reader, &QSocketNotifier::activated, this, [&] {
        ++activations;
        delete pw.data();
        reader->setEnabled(false);
    });
    connect(writer, &QSocketNotifier::activated, this, [&] {
        ++activations;
        delete pr.data();
        writer->setEnabled(false);
    });
    QVERIFY(pair.send("x"));
    QTest::qSleep(20); // both conditions hold before the first wait
    QVERIFY(runUntil([&] { return activations > 0; }));
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(activations, 1);
    QVERIFY(pr.isNull() != pw.isNull());
    delete pr.data();
    delete pw.data();
}

void TestEpollEventDispatcher::hangUpActivatesRead()
{
    SocketPair pair;
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    QSignalSpy spy(&readable, &QSocketNotifier::activated);
    ::close(pair.fds[0]);
    pair.fds[0] = -1;
    QVERIFY(spy.wait(2000));
    char byte;
    QCOMPARE(::read(pair.fds[1], &byte, 1), ssize_t(0)); // end of stream
}

void TestEpollEventDispatcher::exceptionNotifierOnUrgentData()
{
    // TCP urgent data is what poll() and epoll report as priority input.
    const int listener = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    QCOMPARE(::bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    QCOMPARE(::listen(listener, 1), 0);
    QCOMPARE(::getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length), 0);
    const int client = ::socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    QCOMPARE(::connect(client, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
    const int server = ::accept(listener, nullptr, nullptr);
    QVERIFY(server >= 0);

    QSocketNotifier exception(server, QSocketNotifier::Exception);
    QSignalSpy spy(&exception, &QSocketNotifier::activated);
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents();
    QCOMPARE(spy.count(), 0);
    QCOMPARE(::send(client, "!", 1, MSG_OOB), ssize_t(1));
    QVERIFY(spy.wait(2000));
    QCOMPARE(spy.first().at(1).value<QSocketNotifier::Type>(), QSocketNotifier::Exception);
    exception.setEnabled(false);
    ::close(server);
    ::close(client);
    ::close(listener);
}

void TestEpollEventDispatcher::excludeSocketNotifiers()
{
    SocketPair pair;
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    QSignalSpy spy(&readable, &QSocketNotifier::activated);
    QVERIFY(pair.send("x"));
    for (int i = 0; i < 5; ++i)
        QCoreApplication::processEvents(QEventLoop::ExcludeSocketNotifiers);
    QCOMPARE(spy.count(), 0);
    QCoreApplication::processEvents(QEventLoop::AllEvents);
    QCOMPARE(spy.count(), 1);
}

void TestEpollEventDispatcher::excludeSocketNotifiersWaitsForTimers()
{
    // A ready socket must not end a wait that excludes notifiers: the call blocks until the timer.
    SocketPair pair;
    QSocketNotifier readable(pair.fds[1], QSocketNotifier::Read);
    QSignalSpy spy(&readable, &QSocketNotifier::activated);
    QVERIFY(pair.send("x"));
    TimerTarget target;
    target.startTimer(50, Qt::PreciseTimer);
    QElapsedTimer clock;
    clock.start();
    dispatcher()->processEvents(QEventLoop::ExcludeSocketNotifiers | QEventLoop::WaitForMoreEvents);
    QCOMPARE(target.fired.size(), 1);
    QVERIFY2(clock.elapsed() >= 45, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(spy.count(), 0);
}

void TestEpollEventDispatcher::timerTypes_data()
{
    QTest::addColumn<int>("type");
    QTest::addColumn<int>("interval");
    QTest::addColumn<int>("earliest"); // ms after start, first event
    QTest::addColumn<int>("latest");
    QTest::newRow("precise 30") << int(Qt::PreciseTimer) << 30 << 30 << 1000;
    QTest::newRow("coarse 15 (precise)") << int(Qt::CoarseTimer) << 15 << 15 << 1000;
    QTest::newRow("coarse 200 (5 % early at most)") << int(Qt::CoarseTimer) << 200 << 190 << 1200;
    QTest::newRow("very coarse 1200 (a whole second)") << int(Qt::VeryCoarseTimer) << 1200 << 0 << 2500;
    QTest::newRow("precise 0") << int(Qt::PreciseTimer) << 0 << 0 << 1000;
}

void TestEpollEventDispatcher::timerTypes()
{
    QFETCH(int, type);
    QFETCH(int, interval);
    QFETCH(int, earliest);
    QFETCH(int, latest);
    TimerTarget target;
    QElapsedTimer clock;
    qint64 firedAfter = -1;
    target.onTimer = [&](int) {
        if (firedAfter < 0)
            firedAfter = clock.elapsed();
    };
    clock.start();
    const int id = target.startTimer(interval, Qt::TimerType(type));
    QVERIFY(id > 0);
    QVERIFY(runUntil([&] { return firedAfter >= 0; }));
    QVERIFY2(firedAfter >= earliest && firedAfter <= latest, qPrintable(QString::number(firedAfter)));
    const QList<QAbstractEventDispatcher::TimerInfo> timers = dispatcher()->registeredTimers(&target);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(int(timers.first().timerType), type);
    QCOMPARE(timers.first().interval, interval);
    if (type == Qt::VeryCoarseTimer) {
        // Rounded to a second: the first wait is about 1 s (on a second boundary), not 1.2 s.
        QVERIFY2(firedAfter <= 1100, qPrintable(QString::number(firedAfter)));
    }
}

void TestEpollEventDispatcher::zeroTimerRunsOncePerPass()
{
    TimerTarget target;
    target.startTimer(0);
    for (int pass = 1; pass <= 5; ++pass) {
        dispatcher()->processEvents(QEventLoop::AllEvents);
        QCOMPARE(target.fired.size(), pass);
    }
    target.killTimer(target.fired.first());

    // A zero timer started from a timer callback waits for the next pass too.
    TimerTarget other;
    target.onTimer = [&](int timerId) {
        target.killTimer(timerId);
        other.startTimer(0);
    };
    target.startTimer(0);
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(other.fired.size(), 0);
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(other.fired.size(), 1);
}

void TestEpollEventDispatcher::killedFromOwnCallback()
{
    TimerTarget target;
    target.onTimer = [&](int id) { target.killTimer(id); };
    target.startTimer(5, Qt::PreciseTimer);
    QVERIFY(runUntil([&] { return target.fired.size() == 1; }));
    QTest::qWait(50);
    QCOMPARE(target.fired.size(), 1);
    QVERIFY(dispatcher()->registeredTimers(&target).isEmpty());
}

void TestEpollEventDispatcher::killedFromAnotherTimersCallback()
{
    // Two timers due in the same pass: the first to run kills the other, which must not run.
    TimerTarget target;
    int first = 0;
    int second = 0;
    target.onTimer = [&](int id) {
        const int other = id == first ? second : first;
        target.killTimer(other);
        target.killTimer(id);
    };
    first = target.startTimer(20, Qt::PreciseTimer);
    second = target.startTimer(20, Qt::PreciseTimer);
    QTest::qWait(100);
    QCOMPARE(target.fired.size(), 1);
}

void TestEpollEventDispatcher::restartedFromOwnCallback()
{
    // killTimer then startTimer usually hands back the same id: the new timer must keep running.
    TimerTarget target;
    int restarts = 0;
    target.onTimer = [&](int id) {
        if (restarts < 3) {
            ++restarts;
            target.killTimer(id);
            target.startTimer(5, Qt::PreciseTimer);
        }
    };
    target.startTimer(5, Qt::PreciseTimer);
    QVERIFY(runUntil([&] { return target.fired.size() >= 6; }));
    QCOMPARE(restarts, 3);
}

void TestEpollEventDispatcher::rearmedFromExpectedTime()
{
    // On the heap's own clock: a 50 ms timer that fired 30 ms late is next due at 100 ms, not 130 ms;
    // one that fired 120 ms late skips the ticks it missed and keeps its phase (200 ms).
    constexpr std::int64_t ms = 1'000'000;
    const std::int64_t start = 1'000'000 * ms;
    TimerHeap heap;
    QObject owner;
    heap.add(1, 50, Qt::PreciseTimer, &owner, start);
    TimerHeap::Timer *timer = heap.find(1);
    QCOMPARE(timer->fireNs, start + 50 * ms);
    heap.rearm(timer, start + 80 * ms);
    QCOMPARE(timer->fireNs, start + 100 * ms);
    heap.rearm(timer, start + 220 * ms);
    QCOMPARE(timer->fireNs, start + 250 * ms);

    // A zero timer: just after the pass, so once per pass.
    heap.add(2, 0, Qt::PreciseTimer, &owner, start);
    heap.rearm(heap.find(2), start + 300 * ms);
    QCOMPARE(heap.find(2)->fireNs, start + 300 * ms + 1);

    // Coarse: within 5 % of the expected time; very coarse: whole seconds, on a second boundary.
    heap.add(3, 2000, Qt::CoarseTimer, &owner, start + 7 * ms);
    const std::int64_t coarse = heap.find(3)->fireNs;
    QVERIFY2(std::llabs(coarse - (start + 2007 * ms)) <= 100 * ms, qPrintable(QString::number(coarse - start)));
    QCOMPARE(coarse % (100 * ms), std::int64_t(0));
    heap.add(4, 2400, Qt::VeryCoarseTimer, &owner, start + 300 * ms);
    QCOMPARE(heap.find(4)->fireNs, start + 2000 * ms);              // 2.4 s rounds to 2 s, from 1000.3 s: 1002 s
    heap.add(5, 25'000, Qt::CoarseTimer, &owner, start + 300 * ms); // 20 s or more: very coarse
    QCOMPARE(heap.find(5)->fireNs % (1000 * ms), std::int64_t(0));
}

void TestEpollEventDispatcher::nestedLoopDoesNotRefireRunningTimer()
{
    TimerTarget target;
    int depth = 0;
    int deepest = 0;
    target.onTimer = [&](int id) {
        ++depth;
        deepest = std::max(deepest, depth);
        if (target.fired.size() == 1) {
            QEventLoop nested;
            QTimer::singleShot(100, &nested, &QEventLoop::quit);
            nested.exec(); // its own timer is due many times meanwhile
        } else {
            target.killTimer(id);
        }
        --depth;
    };
    target.startTimer(5, Qt::PreciseTimer);
    QVERIFY(runUntil([&] { return target.fired.size() >= 2; }));
    QCOMPARE(deepest, 1);
}

void TestEpollEventDispatcher::restartedTimerRunsInNestedLoop()
{
    // A callback that kills its timer and starts another (usually under the same id) before a nested
    // loop: the new timer is not the one being delivered, so it runs inside the nested loop, and it
    // keeps running once the outer callback has returned.
    TimerTarget target;
    int firedInNestedLoop = 0;
    bool nesting = false;
    target.onTimer = [&](int id) {
        if (nesting) {
            ++firedInNestedLoop;
            return;
        }
        if (target.fired.size() == 1) {
            target.killTimer(id);
            target.startTimer(5, Qt::PreciseTimer);
            nesting = true;
            QEventLoop nested;
            QTimer::singleShot(100, &nested, &QEventLoop::quit);
            nested.exec();
            nesting = false;
        }
    };
    target.startTimer(5, Qt::PreciseTimer);
    QVERIFY(runUntil([&] { return firedInNestedLoop >= 2 && !nesting; }));
    const qsizetype afterNesting = target.fired.size();
    QVERIFY(runUntil([&] { return target.fired.size() >= afterNesting + 2; }));
}

void TestEpollEventDispatcher::remainingTime()
{
    TimerTarget target;
    const int id = target.startTimer(500, Qt::PreciseTimer);
    const int remaining = dispatcher()->remainingTime(id);
    QVERIFY2(remaining > 400 && remaining <= 500, qPrintable(QString::number(remaining)));
    target.killTimer(id);
    QCOMPARE(dispatcher()->remainingTime(id), -1);
    QCOMPARE(dispatcher()->remainingTime(987654), -1);
}

void TestEpollEventDispatcher::registeredTimers()
{
    TimerTarget target;
    const int a = target.startTimer(100, Qt::PreciseTimer);
    const int b = target.startTimer(30'000, Qt::CoarseTimer);
    QList<QAbstractEventDispatcher::TimerInfo> timers = dispatcher()->registeredTimers(&target);
    QCOMPARE(timers.size(), 2);
    std::sort(timers.begin(), timers.end(), [](const auto &x, const auto &y) { return x.timerId < y.timerId; });
    QCOMPARE(timers.at(0).timerId, std::min(a, b));
    QCOMPARE(timers.at(0).interval, a < b ? 100 : 30'000);
    QCOMPARE(timers.at(0).timerType, a < b ? Qt::PreciseTimer : Qt::CoarseTimer);
    target.killTimer(a);
    timers = dispatcher()->registeredTimers(&target);
    QCOMPARE(timers.size(), 1);
    QCOMPARE(timers.first().timerId, b);
    QCOMPARE(timers.first().interval, 30'000);
    QVERIFY(dispatcher()->registeredTimers(this).isEmpty());
}

void TestEpollEventDispatcher::unregisterTimersOfObject()
{
    auto *target = new TimerTarget;
    TimerTarget survivor;
    target->startTimer(5, Qt::PreciseTimer);
    target->startTimer(0);
    survivor.startTimer(5, Qt::PreciseTimer);
    delete target; // QObject's destructor unregisters its timers
    QVERIFY(runUntil([&] { return survivor.fired.size() >= 3; }));
}

void TestEpollEventDispatcher::timerHeapOrder()
{
    // Random registrations and removals: the heap hands back timers in firing order.
    TimerHeap heap;
    QObject owner;
    QRandomGenerator random(14);
    for (int id = 1; id <= 2000; ++id)
        heap.add(id, random.bounded(1, 100'000), Qt::PreciseTimer, &owner, 0);
    for (int id = 1; id <= 2000; id += 3)
        QVERIFY(heap.remove(id));
    QVERIFY(!heap.remove(1));
    QCOMPARE(heap.size(), std::size_t(2000 - 667));
    std::int64_t last = -1;
    int seen = 0;
    while (TimerHeap::Timer *timer = heap.top()) {
        QVERIFY(timer->fireNs >= last);
        last = timer->fireNs;
        QVERIFY(heap.remove(timer->id));
        ++seen;
    }
    QCOMPARE(seen, 2000 - 667);
    QVERIFY(!heap.removeAll(&owner));
}

void TestEpollEventDispatcher::timerHeapReusesRemovedTimers()
{
    // Removed timers' entries are kept and handed to the next registrations (another id, another
    // object, another interval): nothing of the old timer may show through.
    TimerHeap heap;
    QObject first;
    QObject second;
    for (int id = 1; id <= 300; ++id)
        heap.add(id, 1000 + id, Qt::PreciseTimer, &first, 0);
    QVERIFY(heap.removeAll(&first));
    QVERIFY(heap.isEmpty());
    for (int id = 301; id <= 400; ++id)
        heap.add(id, 50, Qt::CoarseTimer, &second, 0);
    QVERIFY(heap.timersOf(&first).isEmpty());
    const QList<QAbstractEventDispatcher::TimerInfo> timers = heap.timersOf(&second);
    QCOMPARE(timers.size(), 100);
    for (const QAbstractEventDispatcher::TimerInfo &info : timers) {
        QVERIFY(info.timerId >= 301 && info.timerId <= 400);
        QCOMPARE(info.interval, 50);
        QCOMPARE(info.timerType, Qt::CoarseTimer);
    }
    QVERIFY(!heap.remove(1));
    QCOMPARE(heap.find(301)->object, &second);
    QCOMPARE(heap.find(301)->inCallback, false);
    // Re-registering an id that is in use replaces it, reused entry or not.
    heap.add(301, 7, Qt::PreciseTimer, &first, 0);
    QCOMPARE(heap.size(), std::size_t(100));
    QCOMPARE(heap.top()->id, 301);
    QCOMPARE(heap.timersOf(&first).size(), 1);
    QCOMPARE(heap.timersOf(&second).size(), 99);
}

void TestEpollEventDispatcher::waitForMoreEventsBlocksUntilTimer()
{
    TimerTarget target;
    const int id = target.startTimer(100, Qt::PreciseTimer);
    QElapsedTimer clock;
    clock.start();
    while (target.fired.isEmpty() && clock.elapsed() < 5000)
        dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    target.killTimer(id);
    QCOMPARE(target.fired.size(), 1);
    QVERIFY2(clock.elapsed() >= 99, qPrintable(QString::number(clock.elapsed())));
}

void TestEpollEventDispatcher::aboutToBlockAndAwake()
{
    QSignalSpy aboutToBlock(dispatcher(), &QAbstractEventDispatcher::aboutToBlock);
    QSignalSpy awake(dispatcher(), &QAbstractEventDispatcher::awake);
    TimerTarget target;
    const int id = target.startTimer(10, Qt::PreciseTimer);
    dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    target.killTimer(id);
    QCOMPARE(aboutToBlock.count(), 1);
    QCOMPARE(awake.count(), 1);
    dispatcher()->processEvents(QEventLoop::AllEvents); // does not block: neither signal
    QCOMPARE(aboutToBlock.count(), 1);
}

void TestEpollEventDispatcher::wakeUpFromAnotherThread()
{
    EpollEventDispatcher *loop = dispatcher();
    TimerTarget guard; // ends the wait if the wake-up is lost
    const int id = guard.startTimer(5000);
    std::thread waker([loop] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        loop->wakeUp();
    });
    QElapsedTimer clock;
    clock.start();
    loop->processEvents(QEventLoop::WaitForMoreEvents);
    const qint64 elapsed = clock.elapsed();
    waker.join();
    guard.killTimer(id);
    QVERIFY(guard.fired.isEmpty());
    QVERIFY2(elapsed >= 90 && elapsed < 4000, qPrintable(QString::number(elapsed)));
}

void TestEpollEventDispatcher::postedFromAnotherThread()
{
    EventCounter counter;
    TimerTarget guard;
    const int id = guard.startTimer(5000);
    std::thread poster([&counter] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        QCoreApplication::postEvent(&counter, new CustomEvent);
    });
    // One call: woken by the post, and delivers it.
    dispatcher()->processEvents(QEventLoop::WaitForMoreEvents);
    poster.join();
    guard.killTimer(id);
    QCOMPARE(counter.count, 1);
}

void TestEpollEventDispatcher::interruptFromAnotherThread()
{
    EpollEventDispatcher *loop = dispatcher();
    TimerTarget guard;
    const int id = guard.startTimer(5000);
    std::thread interrupter([loop] {
        std::this_thread::sleep_for(std::chrono::milliseconds(100));
        loop->interrupt();
    });
    QElapsedTimer clock;
    clock.start();
    const bool processed = loop->processEvents(QEventLoop::WaitForMoreEvents);
    const qint64 elapsed = clock.elapsed();
    interrupter.join();
    guard.killTimer(id);
    QVERIFY(guard.fired.isEmpty());
    QVERIFY2(elapsed < 4000, qPrintable(QString::number(elapsed)));
    Q_UNUSED(processed);

    // QThread::quit() and QEventLoop::exit() from another thread end up here too.
    QEventLoop eventLoop;
    std::thread quitter([&eventLoop] {
        std::this_thread::sleep_for(std::chrono::milliseconds(50));
        QMetaObject::invokeMethod(&eventLoop, "quit", Qt::QueuedConnection);
    });
    TimerTarget guard2;
    const int id2 = guard2.startTimer(5000);
    eventLoop.exec();
    quitter.join();
    guard2.killTimer(id2);
    QVERIFY(guard2.fired.isEmpty());
}

void TestEpollEventDispatcher::interruptFromCallbackStopsThePass()
{
    // Two timers due in one pass; the first interrupts: the second waits for the next pass.
    TimerTarget target;
    target.onTimer = [&](int id) {
        target.killTimer(id);
        dispatcher()->interrupt();
    };
    target.startTimer(10, Qt::PreciseTimer);
    target.startTimer(10, Qt::PreciseTimer);
    QTest::qSleep(30);
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(target.fired.size(), 1);
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(target.fired.size(), 2);
}

void TestEpollEventDispatcher::postedEvents()
{
    EventCounter counter;
    for (int i = 0; i < 3; ++i)
        QCoreApplication::postEvent(&counter, new CustomEvent);
    QCOMPARE(counter.count, 0);
    dispatcher()->processEvents(QEventLoop::AllEvents);
    QCOMPARE(counter.count, 3);
    QMetaObject::invokeMethod(
        &counter, [&counter] { counter.count += 10; }, Qt::QueuedConnection);
    QTRY_COMPARE(counter.count, 13);
}

void TestEpollEventDispatcher::deleteLater()
{
    QPointer<QObject> object(new QObject);
    object->deleteLater();
    QTRY_VERIFY(object.isNull());

    // Inside a nested loop started after deleteLater(): deleted only when back at the outer level.
    QPointer<QObject> outer(new QObject);
    bool aliveAfterNested = false;
    QTimer::singleShot(0, this, [&] {
        outer->deleteLater();
        QEventLoop nested;
        QTimer::singleShot(50, &nested, &QEventLoop::quit);
        nested.exec();
        aliveAfterNested = !outer.isNull();
    });
    QTRY_VERIFY(outer.isNull());
    QVERIFY(aliveAfterNested);
}

void TestEpollEventDispatcher::singleShot()
{
    int zero = 0;
    int later = 0;
    QElapsedTimer clock;
    clock.start();
    qint64 laterAfter = -1;
    QTimer::singleShot(0, this, [&] { ++zero; });
    QTimer::singleShot(40, Qt::PreciseTimer, this, [&] {
        ++later;
        laterAfter = clock.elapsed();
    });
    QTRY_COMPARE(later, 1);
    QCOMPARE(zero, 1);
    QVERIFY(laterAfter >= 40);
    QTest::qWait(60);
    QCOMPARE(later, 1);

    QTimer repeating;
    int ticks = 0;
    connect(&repeating, &QTimer::timeout, this, [&] {
        if (++ticks == 3)
            repeating.stop();
    });
    repeating.start(10);
    QTRY_COMPARE(ticks, 3);
    QVERIFY(!repeating.isActive());
}

void TestEpollEventDispatcher::tcpRoundTrip()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    connect(&server, &QTcpServer::newConnection, this, [&server] {
        QTcpSocket *peer = server.nextPendingConnection();
        connect(peer, &QTcpSocket::readyRead, peer, [peer] { peer->write(peer->readAll()); });
        connect(peer, &QTcpSocket::disconnected, peer, &QObject::deleteLater);
    });
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(client.waitForConnected(5000) || client.state() == QAbstractSocket::ConnectedState);

    // Large enough that both ends fill their send buffers and switch write notifiers on and off.
    QByteArray payload(4 * 1024 * 1024, Qt::Uninitialized);
    for (int i = 0; i < payload.size(); ++i)
        payload[i] = char(i * 31 + (i >> 11));
    QByteArray echoed;
    connect(&client, &QTcpSocket::readyRead, this, [&] { echoed += client.readAll(); });
    client.write(payload);
    QTRY_COMPARE_WITH_TIMEOUT(echoed.size(), payload.size(), 20000);
    QVERIFY(echoed == payload);
    client.disconnectFromHost();
    QTRY_COMPARE(client.state(), QAbstractSocket::UnconnectedState);
}

// A socket given a few bytes at a time writes them in the pass that follows, without the usual
// epoll_ctl() pair (write notifier on, then off) per write; one that fills up is still watched.
void TestEpollEventDispatcher::writesWithoutInterestSetChanges()
{
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QTcpSocket client;
    client.connectToHost(QHostAddress::LocalHost, server.serverPort());
    QVERIFY(server.waitForNewConnection(5000));
    QTcpSocket *peer = server.nextPendingConnection();
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    QByteArray received;
    connect(peer, &QTcpSocket::readyRead, this, [&] { received += peer->readAll(); });

    auto *loop = static_cast<EpollEventDispatcher *>(dispatcher());
    const std::uint64_t changesBefore = loop->interestSetChanges();
    constexpr int kWrites = 200;
    QByteArray expected;
    for (int i = 0; i < kWrites; ++i) {
        const QByteArray line = QByteArray::number(i) + '\n';
        expected += line;
        client.write(line);
        QTRY_COMPARE(received.size(), expected.size());
    }
    QCOMPARE(received, expected);
    // The reading side's notifier stays on throughout; the writing side's is never registered.
    QVERIFY2(loop->interestSetChanges() - changesBefore < 10,
             qPrintable(QString::number(loop->interestSetChanges() - changesBefore)));

    // Bytes the kernel cannot take at once: the rest waits for EPOLLOUT as before and arrives whole.
    QByteArray big(16 * 1024 * 1024, 'x');
    received.clear();
    client.write(big);
    QTRY_COMPARE_WITH_TIMEOUT(received.size(), big.size(), 20000);
    QVERIFY(received == big);
}

int main(int argc, char *argv[])
{
    // As the programs do: the dispatcher exists before the application object.
    auto *loop = new EpollEventDispatcher;
    QCoreApplication::setEventDispatcher(loop);
    QCoreApplication app(argc, argv);
    TestEpollEventDispatcher test;
    QTEST_SET_MAIN_SOURCE_PATH
    return QTest::qExec(&test, argc, argv);
}

#include "TestEpollEventDispatcher.moc"
