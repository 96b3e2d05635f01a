#include "HostRefusalDetector.h"

#include <QTest>

using keyhole::client::HostRefusalDetector;

class TestHostRefusalDetector : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void recognisesRefusals_data()
    {
        QTest::addColumn<int>("status");
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("refusal");

        QTest::newRow("Vite") << 403
                              << QByteArray("Blocked request. This host (\"abc123.tunnel.example.com\") is not "
                                            "allowed.\nTo allow this host, add \"abc123.tunnel.example.com\" to "
                                            "`server.allowedHosts` in vite.config.js.")
                              << true;
        QTest::newRow("webpack-dev-server 403") << 403 << QByteArray("Invalid Host header") << true;
        QTest::newRow("webpack-dev-server 400") << 400 << QByteArray("Invalid Host header") << true;
        QTest::newRow("Django") << 400
                                << QByteArray("<h1>DisallowedHost at /</h1><pre>Invalid HTTP_HOST header: "
                                              "'abc.tunnel.example.com'. You may need to add it to ALLOWED_HOSTS.")
                                << true;
        QTest::newRow("Rails") << 403 << QByteArray("<h1>Blocked hosts: abc.tunnel.example.com</h1>") << true;
        QTest::newRow("misdirected") << 421 << QByteArray("Invalid Host header") << true;
        QTest::newRow("plain forbidden") << 403 << QByteArray("Forbidden") << false;
        QTest::newRow("ok page quoting it") << 200 << QByteArray("How to fix Invalid Host header") << false;
        QTest::newRow("not found") << 404 << QByteArray("Invalid Host header") << false;
        QTest::newRow("empty 400") << 400 << QByteArray() << false;
        QByteArray late(HostRefusalDetector::kScanBytes, ' ');
        late += "Invalid Host header";
        QTest::newRow("past the scanned start") << 403 << late << false;
    }

    void recognisesRefusals()
    {
        QFETCH(int, status);
        QFETCH(QByteArray, body);
        QFETCH(bool, refusal);
        QCOMPARE(HostRefusalDetector::looksLikeRefusal(status, body), refusal);
    }

    void firesOnceUntilReset()
    {
        HostRefusalDetector detector;
        QVERIFY(!detector.feed(200, "hello"));
        QVERIFY(detector.feed(403, "Blocked request. This host (\"x.example\") is not allowed."));
        QVERIFY(detector.hasFired());
        QVERIFY(!detector.feed(403, "Blocked request. This host (\"x.example\") is not allowed."));
        const QString description = detector.description(QStringLiteral("127.0.0.1:5173"));
        QVERIFY2(description.contains(QStringLiteral("127.0.0.1:5173")), qPrintable(description));
        QVERIFY2(description.contains(QStringLiteral("403")), qPrintable(description));
        QVERIFY2(description.contains(QStringLiteral("Blocked request")), qPrintable(description));
        detector.reset();
        QVERIFY(detector.description(QStringLiteral("127.0.0.1:5173")).isEmpty());
        QVERIFY(detector.feed(400, "Invalid Host header"));
    }

    void excerptIsShortAndOnOneLine()
    {
        HostRefusalDetector detector;
        QVERIFY(detector.feed(403, "Invalid Host header\n\n" + QByteArray(2000, 'x')));
        const QString description = detector.description(QStringLiteral("127.0.0.1:8080"));
        QVERIFY(!description.contains(QLatin1Char('\n')));
        QVERIFY2(description.size() < 250, qPrintable(description));
    }
};

QTEST_MAIN(TestHostRefusalDetector)
#include "TestHostRefusalDetector.moc"
