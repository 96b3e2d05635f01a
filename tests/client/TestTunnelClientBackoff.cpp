#include "Backoff.h"

#include <QTest>

using keyhole::client::Backoff;

class TestTunnelClientBackoff : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void ceilingDoublesUpToTheCap();
    void fullJitterScalesTheCeiling_data();
    void fullJitterScalesTheCeiling();
    void floorStopsABusyLoop();
    void resetStartsOver();
    void outOfRangeRandomIsClamped();
    void manyAttemptsDoNotOverflow();
    void defaultRandomStaysInRange();
};

void TestTunnelClientBackoff::ceilingDoublesUpToTheCap()
{
    Backoff backoff(1000, 30000, [] { return 1.0; });
    const QList<qint64> expected{1000, 2000, 4000, 8000, 16000, 30000, 30000, 30000};
    QList<qint64> actual;
    for (int i = 0; i < expected.size(); ++i)
        actual.append(backoff.nextDelayMs());
    QCOMPARE(actual, expected);
    QCOMPARE(backoff.attempts(), expected.size());
}

void TestTunnelClientBackoff::fullJitterScalesTheCeiling_data()
{
    QTest::addColumn<double>("random");
    QTest::addColumn<int>("attempt");
    QTest::addColumn<qint64>("expected");
    QTest::newRow("half of first") << 0.5 << 0 << qint64(500);
    QTest::newRow("half of third") << 0.5 << 2 << qint64(2000);
    QTest::newRow("quarter of capped") << 0.25 << 10 << qint64(7500);
    QTest::newRow("top of capped") << 1.0 << 10 << qint64(30000);
}

void TestTunnelClientBackoff::fullJitterScalesTheCeiling()
{
    QFETCH(double, random);
    QFETCH(int, attempt);
    QFETCH(qint64, expected);
    double next = 1.0;
    Backoff backoff(1000, 30000, [&next] { return next; });
    for (int i = 0; i < attempt; ++i)
        backoff.nextDelayMs();
    next = random;
    QCOMPARE(backoff.nextDelayMs(), expected);
}

void TestTunnelClientBackoff::floorStopsABusyLoop()
{
    Backoff backoff(
        1000, 30000, [] { return 0.0; }, 100);
    QCOMPARE(backoff.nextDelayMs(), qint64(100));
    QCOMPARE(backoff.nextDelayMs(), qint64(100));
}

void TestTunnelClientBackoff::resetStartsOver()
{
    Backoff backoff(1000, 30000, [] { return 1.0; });
    for (int i = 0; i < 6; ++i)
        backoff.nextDelayMs();
    QCOMPARE(backoff.currentCeilingMs(), qint64(30000));
    backoff.reset();
    QCOMPARE(backoff.attempts(), 0);
    QCOMPARE(backoff.nextDelayMs(), qint64(1000));
    QCOMPARE(backoff.nextDelayMs(), qint64(2000));
}

void TestTunnelClientBackoff::outOfRangeRandomIsClamped()
{
    Backoff high(1000, 30000, [] { return 7.0; });
    QCOMPARE(high.nextDelayMs(), qint64(1000));
    Backoff low(
        1000, 30000, [] { return -3.0; }, 50);
    QCOMPARE(low.nextDelayMs(), qint64(50));
}

void TestTunnelClientBackoff::manyAttemptsDoNotOverflow()
{
    Backoff backoff(1000, 30000, [] { return 1.0; });
    qint64 last = 0;
    for (int i = 0; i < 10000; ++i)
        last = backoff.nextDelayMs();
    QCOMPARE(last, qint64(30000));
}

void TestTunnelClientBackoff::defaultRandomStaysInRange()
{
    Backoff backoff;
    for (int i = 0; i < 200; ++i) {
        const qint64 ceiling = backoff.currentCeilingMs();
        const qint64 delay = backoff.nextDelayMs();
        QVERIFY2(delay >= Backoff::kDefaultFloorMs && delay <= ceiling, qPrintable(QString::number(delay)));
        QVERIFY(ceiling <= Backoff::kDefaultMaxMs);
    }
}

QTEST_GUILESS_MAIN(TestTunnelClientBackoff)
#include "TestTunnelClientBackoff.moc"
