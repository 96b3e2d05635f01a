#include "ProxyCommandLine.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using namespace keyhole::proxy;

class TestProxyCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testDefaults()
    {
        const ParsedCommandLine parsed = parseProxyCommandLine({QStringLiteral("keyhole-proxy")});
        QVERIFY(parsed.config);
        QCOMPARE(parsed.config->listenPort, quint16(8080));
        QCOMPARE(parsed.config->domain, QStringLiteral("localhost"));
        QCOMPARE(parsed.config->requestTimeoutMs, 30000);
        // Bodies stream (protocol 2): the limits bound what passes, not what is held.
        QCOMPARE(parsed.config->maxRequestBodyBytes, qint64(100) * 1024 * 1024);
        QCOMPARE(parsed.config->maxResponseBodyBytes, qint64(0));
        QCOMPARE(parsed.config->bodyIdleTimeoutMs, 120000);
        QCOMPARE(parsed.config->maxWsMessageBytes, qint64(512000));
        QVERIFY(parsed.config->pathRouting);
        QCOMPARE(parsed.config->effectivePublicUrl(8080).toString(), QStringLiteral("http://localhost:8080"));
        QCOMPARE(parsed.config->effectivePublicUrl(80).toString(), QStringLiteral("http://localhost"));
    }

    void testValues()
    {
        const ParsedCommandLine parsed = parseProxyCommandLine(
            {"keyhole-proxy", "--listen", "127.0.0.1:0", "--domain", "Tunnel.Example.com", "--request-timeout", "2",
             "--max-body", "1000", "--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "192.0.2.1", "--public-url",
             "https://tunnel.example.com/"});
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QCOMPARE(parsed.config->listenPort, quint16(0));
        QCOMPARE(parsed.config->domain, QStringLiteral("tunnel.example.com"));
        QCOMPARE(parsed.config->requestTimeoutMs, 2000);
        QCOMPARE(parsed.config->maxRequestBodyBytes, qint64(1000));
        QCOMPARE(parsed.config->maxResponseBodyBytes, qint64(1000));
        QCOMPARE(parsed.config->effectivePublicUrl(1234).toString(), QStringLiteral("https://tunnel.example.com"));
        QVERIFY(parsed.config->isTrustedProxy(QHostAddress("10.1.2.3")));
        QVERIFY(parsed.config->isTrustedProxy(QHostAddress("::ffff:192.0.2.1")));
        QVERIFY(!parsed.config->isTrustedProxy(QHostAddress("192.0.2.2")));
    }

    // --config: the file's options, the command line's winning; a bad line named by file and line.
    void testConfigFile_data()
    {
        QTest::addColumn<QByteArray>("file");
        QTest::addColumn<QStringList>("flags");
        QTest::addColumn<QString>("domain"); // empty: the parse fails
        QTest::addColumn<int>("trusted");    // how many --trusted-proxy entries
        QTest::addColumn<double>("rateLimit");
        QTest::addColumn<QString>("error"); // after "<path>"
        QTest::newRow("file only") << QByteArray("domain = a.example\ntrusted-proxy = 10.0.0.0/8\n"
                                                 "trusted-proxy = ::1\nrate-limit = 5\n")
                                   << QStringList() << "a.example" << 2 << 5.0 << QString();
        QTest::newRow("flags win") << QByteArray("domain = a.example\ntrusted-proxy = 10.0.0.0/8\n"
                                                 "trusted-proxy = ::1\nrate-limit = 5\n")
                                   << QStringList{"--domain", "b.example", "--trusted-proxy", "192.0.2.1"}
                                   << "b.example" << 1 << 5.0 << QString();
        QTest::newRow("a flag fixes the file's bad value")
            << QByteArray("rate-limit = lots\n") << QStringList{"--rate-limit", "7"} << "localhost" << 0 << 7.0
            << QString();
        QTest::newRow("unknown option") << QByteArray("\n# x\nrate-limits = 5\n") << QStringList() << QString() << 0
                                        << 0.0 << QStringLiteral(":3: unknown option \"rate-limits\"");
        QTest::newRow("bad value") << QByteArray("domain = a.example\nrate-limit = lots\n") << QStringList()
                                   << QString() << 0 << 0.0
                                   << QStringLiteral(
                                          ":2: --rate-limit: expected a number from 0.001 to 1e+09, got 'lots'");
        QTest::newRow("bad pair") << QByteArray("ping-interval = 60\n") << QStringList() << QString() << 0 << 0.0
                                  << QStringLiteral(":1: --tunnel-timeout must be longer than --ping-interval");
        QTest::newRow("the command line's own fault is not the file's")
            << QByteArray("domain = a.example\n") << QStringList{"--rate-limit", "x"} << QString() << 0 << 0.0
            << QStringLiteral("--rate-limit: expected a number from 0.001 to 1e+09, got 'x'");
    }

    void testConfigFile()
    {
        QFETCH(QByteArray, file);
        QFETCH(QStringList, flags);
        QFETCH(QString, domain);
        QFETCH(int, trusted);
        QFETCH(double, rateLimit);
        QFETCH(QString, error);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("proxy.conf"));
        QFile out(path);
        QVERIFY(out.open(QIODevice::WriteOnly));
        out.write(file);
        out.close();
        const ParsedCommandLine parsed = parseProxyCommandLine(QStringList{"keyhole-proxy", "--config", path} + flags);
        if (domain.isEmpty()) {
            QVERIFY(!parsed.config);
            QCOMPARE(parsed.exitCode, 2);
            QCOMPARE(parsed.error, error.startsWith(u':') ? path + error : error);
            return;
        }
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QCOMPARE(parsed.config->domain, domain);
        QCOMPARE(int(parsed.config->trustedProxies.size()), trusted);
        QCOMPARE(parsed.config->rateLimitPerSec, rateLimit);
        QCOMPARE(parsed.config->configFile, path);
    }

    void testMissingConfigFile()
    {
        const ParsedCommandLine parsed = parseProxyCommandLine(
            {"keyhole-proxy", "--config", "/nonexistent/proxy.conf"});
        QVERIFY(!parsed.config);
        QCOMPARE(parsed.exitCode, 2);
        QVERIFY2(parsed.error.startsWith(QStringLiteral("/nonexistent/proxy.conf: ")), qPrintable(parsed.error));
    }

    void testMetricsListen()
    {
        ParsedCommandLine parsed = parseProxyCommandLine({"keyhole-proxy"});
        QVERIFY(parsed.config);
        QVERIFY(!parsed.config->metricsListener);
        parsed = parseProxyCommandLine({"keyhole-proxy", "--metrics-listen", "127.0.0.1:9100"});
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QVERIFY(parsed.config->metricsListener);
        QCOMPARE(parsed.config->metricsAddress, QHostAddress(QHostAddress::LocalHost));
        QCOMPARE(parsed.config->metricsPort, quint16(9100));
        parsed = parseProxyCommandLine({"keyhole-proxy", "--metrics-listen", "9100"});
        QVERIFY(!parsed.config);
        QVERIFY2(parsed.error.startsWith(QStringLiteral("--metrics-listen:")), qPrintable(parsed.error));
    }

    void testPathRouting_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<bool>("enabled");
        QTest::newRow("on") << "on" << true;
        QTest::newRow("off") << "off" << false;
    }

    void testPathRouting()
    {
        QFETCH(QString, value);
        QFETCH(bool, enabled);
        const ParsedCommandLine parsed = parseProxyCommandLine({"keyhole-proxy", "--path-routing", value});
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QCOMPARE(parsed.config->pathRouting, enabled);
    }

    void testSendTimeout()
    {
        QCOMPARE(parseProxyCommandLine({QStringLiteral("keyhole-proxy")}).config->sendTimeoutMs, 60000);
        const ParsedCommandLine parsed = parseProxyCommandLine({"keyhole-proxy", "--send-timeout", "5"});
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QCOMPARE(parsed.config->sendTimeoutMs, 5000);
    }

    void testRedisFlags()
    {
        const ParsedCommandLine parsed = parseProxyCommandLine({"keyhole-proxy", "--redis",
                                                                "redis://:pw@10.0.0.5:6380/2", "--instance-id",
                                                                "proxy_1", "--redis-ttl", "5"});
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QCOMPARE(parsed.config->redisUrl, QStringLiteral("redis://:pw@10.0.0.5:6380/2"));
        QCOMPARE(parsed.config->instanceId, QByteArray("proxy_1"));
        QCOMPARE(parsed.config->redisTtlMs, 5000);
        QVERIFY(parseProxyCommandLine({"keyhole-proxy"}).config->redisUrl.isEmpty());
    }

    void testWebSocketFlowFlags()
    {
        const ParsedCommandLine defaults = parseProxyCommandLine({"keyhole-proxy"});
        QVERIFY(defaults.config);
        QCOMPARE(defaults.config->sendTimeoutMs, 60000);
        QCOMPARE(defaults.config->wsBytesPerSec, qint64(0));
        QCOMPARE(defaults.config->rateLimitPerSec, 1000.0);
        QCOMPARE(defaults.config->rateBurst, 5000.0);
        const ParsedCommandLine parsed = parseProxyCommandLine(
            {"keyhole-proxy", "--send-timeout", "3", "--ws-rate", "1048576"});
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QCOMPARE(parsed.config->sendTimeoutMs, 3000);
        QCOMPARE(parsed.config->wsBytesPerSec, qint64(1048576));
    }

    void testBodyFlags_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<qint64>("request");
        QTest::addColumn<qint64>("response");
        QTest::addColumn<int>("idleMs");
        QTest::addColumn<qint64>("wsMessage");
        const qint64 mib100 = qint64(100) * 1024 * 1024;
        QTest::newRow("request limit") << QStringList{"--max-request-body", "5000"} << qint64(5000) << qint64(0)
                                       << 120000 << qint64(512000);
        QTest::newRow("response limit") << QStringList{"--max-response-body", "7000"} << mib100 << qint64(7000)
                                        << 120000 << qint64(512000);
        QTest::newRow("no request limit")
            << QStringList{"--max-request-body", "0"} << qint64(0) << qint64(0) << 120000 << qint64(512000);
        // --max-body sets both and leaves WebSocket messages alone; a specific flag wins over it.
        QTest::newRow("max-body sets both")
            << QStringList{"--max-body", "512000"} << qint64(512000) << qint64(512000) << 120000 << qint64(512000);
        QTest::newRow("specific flag wins") << QStringList{"--max-body", "1000", "--max-response-body", "0"}
                                            << qint64(1000) << qint64(0) << 120000 << qint64(512000);
        QTest::newRow("ws message apart") << QStringList{"--max-body", "1000", "--max-ws-message", "2048"}
                                          << qint64(1000) << qint64(1000) << 120000 << qint64(2048);
        QTest::newRow("body idle timeout")
            << QStringList{"--body-idle-timeout", "7"} << mib100 << qint64(0) << 7000 << qint64(512000);
    }

    void testBodyFlags()
    {
        QFETCH(QStringList, args);
        args.prepend(QStringLiteral("keyhole-proxy"));
        const ParsedCommandLine parsed = parseProxyCommandLine(args);
        QVERIFY2(parsed.config, qPrintable(parsed.error));
        QTEST(parsed.config->maxRequestBodyBytes, "request");
        QTEST(parsed.config->maxResponseBodyBytes, "response");
        QTEST(parsed.config->bodyIdleTimeoutMs, "idleMs");
        QTEST(parsed.config->maxWsMessageBytes, "wsMessage");
    }

    void testErrors_data()
    {
        QTest::addColumn<QStringList>("args");
        QTest::addColumn<QString>("mentions");
        QTest::newRow("listen without port") << QStringList{"--listen", "0.0.0.0"} << "--listen";
        QTest::newRow("listen bad address") << QStringList{"--listen", "nohost:80"} << "--listen";
        QTest::newRow("timeout not a number") << QStringList{"--request-timeout", "soon"} << "--request-timeout";
        QTest::newRow("negative body") << QStringList{"--max-body", "-1"} << "--max-body";
        QTest::newRow("negative request body") << QStringList{"--max-request-body", "-1"} << "--max-request-body";
        QTest::newRow("response body not a number")
            << QStringList{"--max-response-body", "lots"} << "--max-response-body";
        QTest::newRow("zero body idle timeout") << QStringList{"--body-idle-timeout", "0"} << "--body-idle-timeout";
        QTest::newRow("zero ws message") << QStringList{"--max-ws-message", "0"} << "--max-ws-message";
        QTest::newRow("path routing neither on nor off") << QStringList{"--path-routing", "yes"} << "--path-routing";
        QTest::newRow("cert without key") << QStringList{"--tls-cert", "a.pem"} << "--tls-key";
        QTest::newRow("bad public url") << QStringList{"--public-url", "ftp://x"} << "--public-url";
        QTest::newRow("bad log format") << QStringList{"--log-format", "xml"} << "--log-format";
        QTest::newRow("bad trusted proxy") << QStringList{"--trusted-proxy", "nope"} << "--trusted-proxy";
        QTest::newRow("unknown flag") << QStringList{"--frobnicate"} << "frobnicate";
        QTest::newRow("timeout shorter than ping") << QStringList{"--tunnel-timeout", "5"} << "--tunnel-timeout";
        QTest::newRow("redis not a url") << QStringList{"--redis", "localhost:6379"} << "--redis";
        QTest::newRow("redis over tls") << QStringList{"--redis", "rediss://h:6380"} << "TLS";
        QTest::newRow("bad instance id") << QStringList{"--instance-id", "a-b"} << "--instance-id";
        QTest::newRow("zero send timeout") << QStringList{"--send-timeout", "0"} << "--send-timeout";
        QTest::newRow("bad redis ttl") << QStringList{"--redis-ttl", "0"} << "--redis-ttl";
        QTest::newRow("negative ws rate") << QStringList{"--ws-rate", "-1"} << "--ws-rate";
    }

    void testErrors()
    {
        QFETCH(QStringList, args);
        QFETCH(QString, mentions);
        args.prepend(QStringLiteral("keyhole-proxy"));
        const ParsedCommandLine parsed = parseProxyCommandLine(args);
        QVERIFY(!parsed.config);
        QCOMPARE(parsed.exitCode, 2);
        QVERIFY2(parsed.error.contains(mentions), qPrintable(parsed.error));
    }
};

QTEST_GUILESS_MAIN(TestProxyCommandLine)
#include "TestProxyCommandLine.moc"
