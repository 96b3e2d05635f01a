#include "util/LazyDeadline.h"

#include <QElapsedTimer>
#include <QSignalSpy>
#include <QtTest>

using keyhole::util::LazyDeadline;

class TestLazyDeadline : public QObject
{
    Q_OBJECT

private slots:
    void expiresOnce();
    void movedLaterExpiresLater();
    void movedEarlierExpiresEarlier();
    void stoppedNeverExpires();
    void restartAfterExpiry();
};

void TestLazyDeadline::expiresOnce()
{
    LazyDeadline deadline;
    QSignalSpy spy(&deadline, &LazyDeadline::expired);
    QElapsedTimer clock;
    clock.start();
    deadline.start(30);
    QVERIFY(deadline.isActive());
    QVERIFY(spy.wait(2000));
    QVERIFY(clock.elapsed() >= 30);
    QVERIFY(!deadline.isActive());
    QTest::qWait(60);
    QCOMPARE(spy.count(), 1);
}

void TestLazyDeadline::movedLaterExpiresLater()
{
    LazyDeadline deadline;
    QSignalSpy spy(&deadline, &LazyDeadline::expired);
    QElapsedTimer clock;
    clock.start();
    deadline.start(20);
    deadline.start(150); // the timer still fires at 20 ms, finds nothing due and re-arms
    QVERIFY(spy.wait(2000));
    QVERIFY2(clock.elapsed() >= 150, qPrintable(QString::number(clock.elapsed())));
    QCOMPARE(spy.count(), 1);
}

void TestLazyDeadline::movedEarlierExpiresEarlier()
{
    LazyDeadline deadline;
    QSignalSpy spy(&deadline, &LazyDeadline::expired);
    QElapsedTimer clock;
    clock.start();
    deadline.start(5000);
    deadline.start(20);
    QVERIFY(spy.wait(2000));
    QVERIFY2(clock.elapsed() < 1000, qPrintable(QString::number(clock.elapsed())));
}

void TestLazyDeadline::stoppedNeverExpires()
{
    LazyDeadline deadline;
    QSignalSpy spy(&deadline, &LazyDeadline::expired);
    deadline.start(10);
    deadline.stop();
    QVERIFY(!deadline.isActive());
    QVERIFY(!spy.wait(100));
}

void TestLazyDeadline::restartAfterExpiry()
{
    LazyDeadline deadline;
    QSignalSpy spy(&deadline, &LazyDeadline::expired);
    deadline.start(10);
    QVERIFY(spy.wait(2000));
    deadline.start(10);
    QVERIFY(spy.wait(2000));
    QCOMPARE(spy.count(), 2);
}

QTEST_GUILESS_MAIN(TestLazyDeadline)
#include "TestLazyDeadline.moc"
