#include "util/Clock.h"
#include "util/TokenBucket.h"

#include <QtTest>

using keyhole::util::ManualClock;
using keyhole::util::TokenBucket;

class TestTokenBucket : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void startsFull();
    void burstThenRefuse();
    void refill_data();
    void refill();
    void noOverflowBeyondBurst();
    void msUntilAvailable();
    void fractionalTokens();
    void clockStandsStill();
};

void TestTokenBucket::startsFull()
{
    ManualClock clock;
    clock.advanceMs(123456);
    const TokenBucket bucket(10, 5, &clock);
    QCOMPARE(bucket.available(), 5.0);
    QCOMPARE(bucket.msUntilAvailable(), qint64(0));
}

void TestTokenBucket::burstThenRefuse()
{
    ManualClock clock;
    TokenBucket bucket(1, 3, &clock);
    QVERIFY(bucket.tryTake());
    QVERIFY(bucket.tryTake());
    QVERIFY(bucket.tryTake());
    QVERIFY(!bucket.tryTake());
    // A refused take costs nothing.
    QCOMPARE(bucket.available(), 0.0);
    QVERIFY(!bucket.tryTake(0.5));
}

void TestTokenBucket::refill_data()
{
    QTest::addColumn<double>("rate");
    QTest::addColumn<qint64>("elapsedMs");
    QTest::addColumn<double>("expected");
    QTest::newRow("1/s, 500 ms") << 1.0 << qint64(500) << 0.5;
    QTest::newRow("1/s, 1 s") << 1.0 << qint64(1000) << 1.0;
    QTest::newRow("100/s, 25 ms") << 100.0 << qint64(25) << 2.5;
    QTest::newRow("0.5/s, 3 s") << 0.5 << qint64(3000) << 1.5;
}

void TestTokenBucket::refill()
{
    QFETCH(double, rate);
    QFETCH(qint64, elapsedMs);
    QFETCH(double, expected);
    ManualClock clock;
    TokenBucket bucket(rate, 10, &clock);
    QVERIFY(bucket.tryTake(10));
    QCOMPARE(bucket.available(), 0.0);
    clock.advanceMs(elapsedMs);
    QVERIFY(qAbs(bucket.available() - expected) < 1e-9);
}

void TestTokenBucket::noOverflowBeyondBurst()
{
    ManualClock clock;
    TokenBucket bucket(100, 4, &clock);
    QVERIFY(bucket.tryTake(2));
    clock.advanceMs(3'600'000);
    QCOMPARE(bucket.available(), 4.0);
    for (int i = 0; i < 4; ++i)
        QVERIFY(bucket.tryTake());
    QVERIFY(!bucket.tryTake());
}

void TestTokenBucket::msUntilAvailable()
{
    ManualClock clock;
    TokenBucket bucket(2, 2, &clock); // one token every 500 ms
    QVERIFY(bucket.tryTake(2));
    QCOMPARE(bucket.msUntilAvailable(), qint64(500));
    QCOMPARE(bucket.msUntilAvailable(2), qint64(1000));
    clock.advanceMs(200);
    QCOMPARE(bucket.msUntilAvailable(), qint64(300));
    clock.advanceMs(299);
    QCOMPARE(bucket.msUntilAvailable(), qint64(1)); // rounds up, never says 0 too early
    QVERIFY(!bucket.tryTake());
    clock.advanceMs(1);
    QCOMPARE(bucket.msUntilAvailable(), qint64(0));
    QVERIFY(bucket.tryTake());
    // More than the burst can never be had.
    QVERIFY(bucket.msUntilAvailable(3) > qint64(365) * 24 * 3600 * 1000);
}

void TestTokenBucket::fractionalTokens()
{
    ManualClock clock;
    TokenBucket bucket(10, 1, &clock);
    QVERIFY(bucket.tryTake(0.25));
    QVERIFY(bucket.tryTake(0.75));
    QVERIFY(!bucket.tryTake(0.1));
    clock.advanceMs(10); // 0.1 tokens
    QVERIFY(bucket.tryTake(0.1 - 1e-9));
}

void TestTokenBucket::clockStandsStill()
{
    ManualClock clock;
    TokenBucket bucket(1000, 1, &clock);
    QVERIFY(bucket.tryTake());
    // Many calls without time passing must not mint tokens.
    for (int i = 0; i < 1000; ++i)
        QVERIFY(!bucket.tryTake());
}

QTEST_GUILESS_MAIN(TestTokenBucket)
#include "TestTokenBucket.moc"
