#include "bus/redis/RedisUrl.h"

#include <QTest>

using namespace keyhole::proxy;

class TestRedisUrl : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testValid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QByteArray>("user");
        QTest::addColumn<QByteArray>("password");
        QTest::addColumn<int>("db");
        QTest::newRow("host only") << "redis://redis.internal"
                                   << "redis.internal" << 6379 << QByteArray() << QByteArray() << 0;
        QTest::newRow("port and db") << "redis://127.0.0.1:6380/3"
                                     << "127.0.0.1" << 6380 << QByteArray() << QByteArray() << 3;
        QTest::newRow("password") << "redis://:s3cr%40t@host:1/0"
                                  << "host" << 1 << QByteArray() << QByteArray("s3cr@t") << 0;
        QTest::newRow("acl user") << "redis://keyhole:pw@host"
                                  << "host" << 6379 << QByteArray("keyhole") << QByteArray("pw") << 0;
        QTest::newRow("ipv6") << "redis://[::1]:7000"
                              << "::1" << 7000 << QByteArray() << QByteArray() << 0;
        QTest::newRow("trailing slash") << "redis://h:1/"
                                        << "h" << 1 << QByteArray() << QByteArray() << 0;
    }

    void testValid()
    {
        QFETCH(QString, text);
        QString error;
        const auto url = RedisUrl::parse(text, &error);
        QVERIFY2(url, qPrintable(error));
        QTEST(url->host, "host");
        QTEST(int(url->port), "port");
        QTEST(url->user, "user");
        QTEST(url->password, "password");
        QTEST(url->db, "db");
        QVERIFY(!url->redacted().contains(QLatin1String("s3cr")));
    }

    void testInvalid_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("empty") << ""
                               << "not a URL";
        QTest::newRow("tls") << "rediss://host:6380"
                             << "TLS";
        QTest::newRow("http") << "http://host"
                              << "scheme";
        QTest::newRow("no scheme") << "host:6379"
                                   << "redis://";
        QTest::newRow("no host") << "redis://:6379"
                                 << "host";
        QTest::newRow("bad db") << "redis://host/abc"
                                << "database";
        QTest::newRow("negative db") << "redis://host/-1"
                                     << "database";
        QTest::newRow("query") << "redis://host?timeout=1"
                               << "query";
        QTest::newRow("user without password") << "redis://user@host"
                                               << "password";
        QTest::newRow("bad port") << "redis://host:99999"
                                  << "";
    }

    void testInvalid()
    {
        QFETCH(QString, text);
        QFETCH(QString, mentions);
        QString error;
        QVERIFY(!RedisUrl::parse(text, &error));
        QVERIFY2(!error.isEmpty(), "an error message");
        QVERIFY2(error.contains(mentions), qPrintable(error));
    }
};

QTEST_GUILESS_MAIN(TestRedisUrl)
#include "TestRedisUrl.moc"
