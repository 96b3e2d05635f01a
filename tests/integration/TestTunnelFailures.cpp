// What visitors and clients see when something goes wrong: timeouts, dead services and clients, proxy
// restarts, a second client with the same key, refused registrations and the proxy's limits.
// Each case starts its own tunnel because most of them break it.

#include "TestSupport.h"
#include "crypto/KeyPair.h"
#include "crypto/Label.h"

#include <QFile>
#include <QRegularExpression>
#include <QTest>

#include <memory>

using namespace keyhole::testing;

class TestTunnelFailures : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void testGatewayTimeout();
    void testLocalServiceDown();
    void testClientKilledDuringRequest();
    void testReconnectAfterProxyRestart();
    void testSecondClientReplacesFirst();
    void testUnauthorizedKeyRefused();
    void testAuthorizedKeyAccepted();
    void testRateLimit();
    void testHeadTooLarge();
    void testUrlTooLong();
    void testProxyHostIsNotATunnel();
    void testCleanShutdown();
    void testSigtermDrainsRequestsInFlight();

private:
    std::unique_ptr<TunnelFixture> m_fx;
};

void TestTunnelFailures::init()
{
    m_fx = std::make_unique<TunnelFixture>();
}

void TestTunnelFailures::cleanup()
{
    if (QTest::currentTestFailed())
        m_fx->dumpOutput();
    m_fx.reset();
}

void TestTunnelFailures::testGatewayTimeout()
{
    QVERIFY2(m_fx->start({QStringLiteral("--request-timeout"), QStringLiteral("2")}), qPrintable(m_fx->errorString()));
    const CurlResult r = m_fx->visit(QStringLiteral("/slow/5000"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 504);
    QVERIFY2(!r.header("X-Keyhole-Request-Id").isEmpty(), qPrintable(r.describe()));
    const double seconds = r.transfers.value(0).timeTotal;
    QVERIFY2(seconds > 0.5 && seconds < 4.5,
             qPrintable(QStringLiteral("504 after %1 s, not within the 2 s timeout").arg(seconds)));
}

void TestTunnelFailures::testLocalServiceDown()
{
    const quint16 deadPort = freeTcpPort();
    QVERIFY(deadPort != 0);
    QVERIFY2(m_fx->startProxy(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startClient({}, deadPort), qPrintable(m_fx->errorString()));
    const CurlResult r = m_fx->visit(QStringLiteral("/echo"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 502);
    QVERIFY2(r.body.contains(":" + QByteArray::number(deadPort)), r.body.constData());
}

void TestTunnelFailures::testClientKilledDuringRequest()
{
    QVERIFY2(m_fx->start(), qPrintable(m_fx->errorString()));
    auto job = startCurl(m_fx->resolveArgs() + QStringList{m_fx->visitorUrl(QStringLiteral("/slow/5000"))});
    // Kill the client only once the request has reached the service.
    QVERIFY2(
        m_fx->service()->waitForLine(QRegularExpression(QStringLiteral("^request GET /slow/5000$")), 10000).hasMatch(),
        qPrintable(m_fx->service()->errorString()));
    m_fx->client()->kill();
    const CurlResult r = job->wait();
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 502);
    QVERIFY2(r.transfers.value(0).timeTotal < 4.5, "the 502 must come when the tunnel drops, not when /slow ends");

    // The tunnel is gone now: its hostname is offline.
    const CurlResult after = m_fx->visit(QStringLiteral("/echo"));
    QCOMPARE(after.status, 404);
}

void TestTunnelFailures::testReconnectAfterProxyRestart()
{
    QVERIFY2(m_fx->start(), qPrintable(m_fx->errorString()));
    const QString firstUrl = m_fx->publicUrl();
    QVERIFY2(m_fx->restartProxy(), qPrintable(m_fx->errorString()));
    const QString secondUrl = m_fx->waitForOnline(m_fx->client(), 30000);
    QVERIFY2(!secondUrl.isEmpty(), qPrintable(m_fx->errorString()));
    QCOMPARE(secondUrl, firstUrl);

    const CurlResult r = m_fx->visit(QStringLiteral("/status/201"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 201);
}

void TestTunnelFailures::testSecondClientReplacesFirst()
{
    QVERIFY2(m_fx->start(), qPrintable(m_fx->errorString()));
    std::unique_ptr<ManagedProcess> second = m_fx->launchClient(QStringLiteral("second client"), {},
                                                                QStringLiteral("state2.json"));
    const QString secondUrl = m_fx->waitForOnline(second.get());
    QVERIFY2(!secondUrl.isEmpty(), qPrintable(m_fx->errorString()));
    QCOMPARE(secondUrl, m_fx->publicUrl());

    QVERIFY2(m_fx->client()->waitForExit(10000), qPrintable(m_fx->client()->errorString()));
    QCOMPARE(m_fx->client()->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_fx->client()->exitCode(), 4);

    const CurlResult r = m_fx->visit(QStringLiteral("/status/200"));
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 200);
    QVERIFY2(second->waitForLine(QRegularExpression(QStringLiteral("^GET /status/200 200 ")), 5000).hasMatch(),
             qPrintable(second->errorString()));
}

void TestTunnelFailures::testUnauthorizedKeyRefused()
{
    // Some other key's label: ours is not on the list.
    const QString authorized = m_fx->tempPath(QStringLiteral("authorized_keys"));
    QVERIFY(writeFile(authorized, QByteArray(52, 'b') + '\n'));
    QVERIFY2(m_fx->startService(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startProxy({QStringLiteral("--authorized-keys"), authorized}), qPrintable(m_fx->errorString()));
    std::unique_ptr<ManagedProcess> client = m_fx->launchClient(QStringLiteral("client"), {},
                                                                QStringLiteral("state.json"));
    QVERIFY2(client->waitForExit(20000), qPrintable(client->errorString()));
    QCOMPARE(client->exitStatus(), QProcess::NormalExit);
    QCOMPARE(client->exitCode(), 3);
    QVERIFY2(!client->stderrData().trimmed().isEmpty(), "the refusal reason goes to stderr");
    QVERIFY(!client->stdoutData().contains("Tunnel online:"));
    QVERIFY(!QFile::exists(m_fx->stateFile()));
}

void TestTunnelFailures::testAuthorizedKeyAccepted()
{
    // Our own key, made up front so its label can be listed before the client first runs.
    std::optional<keyhole::crypto::KeyPair> key = keyhole::crypto::KeyPair::generate();
    QVERIFY(key);
    QVERIFY(writeFile(m_fx->keyFile(), key->privatePem()));
    QFile::setPermissions(m_fx->keyFile(), QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    const QString label = keyhole::crypto::labelForKey(*key);

    const QString authorized = m_fx->tempPath(QStringLiteral("authorized_keys"));
    QVERIFY(writeFile(authorized, "# operators' keys\n" + QByteArray(52, 'b') + "\n" + label.toLatin1() + "\n"));
    QVERIFY2(m_fx->startService(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startProxy({QStringLiteral("--authorized-keys"), authorized}), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startClient(), qPrintable(m_fx->errorString()));
    QCOMPARE(m_fx->label(), label);
    const CurlResult r = m_fx->visit(QStringLiteral("/status/200"));
    QCOMPARE(r.status, 200);
}

void TestTunnelFailures::testRateLimit()
{
    QVERIFY2(m_fx->start({QStringLiteral("--rate-limit"), QStringLiteral("1"), QStringLiteral("--rate-burst"),
                          QStringLiteral("2")}),
             qPrintable(m_fx->errorString()));
    QStringList args = m_fx->resolveArgs();
    for (int i = 0; i < 8; ++i)
        args += QStringList{m_fx->visitorUrl(QStringLiteral("/status/200")), QStringLiteral("-o"),
                            QStringLiteral("/dev/null")};
    const CurlResult r = runCurl(args);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.transfers.size(), 8);
    QCOMPARE(r.transfers.first().status, 200);
    int limited = 0;
    for (const CurlTransfer &t : r.transfers) {
        QVERIFY2(t.status == 200 || t.status == 429, qPrintable(QString::number(t.status)));
        limited += t.status == 429 ? 1 : 0;
    }
    QVERIFY2(limited > 0, "8 requests at once with a burst of 2 must hit the limit");
    for (const CurlResponseHead &head : r.responses) {
        if (head.status == 429) {
            bool ok = false;
            const int retryAfter = head.header("Retry-After").toInt(&ok);
            QVERIFY2(ok && retryAfter >= 1, head.header("Retry-After").constData());
        }
    }
}

void TestTunnelFailures::testHeadTooLarge()
{
    QVERIFY2(m_fx->start({QStringLiteral("--max-head-bytes"), QStringLiteral("32768")}),
             qPrintable(m_fx->errorString()));
    const QString headerFile = m_fx->tempPath(QStringLiteral("big-header.txt"));
    QVERIFY(writeFile(headerFile, "X-Big: " + QByteArray(40000, 'a') + '\n'));
    const CurlResult r = m_fx->visit(QStringLiteral("/echo?big-header"),
                                     {QStringLiteral("-H"), QLatin1Char('@') + headerFile});
    QVERIFY2(r.status == 431, qPrintable(r.describe()));
    QVERIFY(!m_fx->service()->stdoutData().contains("big-header"));

    // Just under the limit still passes.
    QVERIFY(writeFile(headerFile, "X-Big: " + QByteArray(20000, 'a') + '\n'));
    const CurlResult ok = m_fx->visit(QStringLiteral("/status/200"),
                                      {QStringLiteral("-H"), QLatin1Char('@') + headerFile});
    QVERIFY2(ok.status == 200, qPrintable(ok.describe()));
}

void TestTunnelFailures::testUrlTooLong()
{
    QVERIFY2(m_fx->start({QStringLiteral("--max-url-bytes"), QStringLiteral("4096"), QStringLiteral("--max-head-bytes"),
                          QStringLiteral("65536")}),
             qPrintable(m_fx->errorString()));
    const QString longPath = QStringLiteral("/echo/") + QString(6000, QLatin1Char('u'));
    const CurlResult r = m_fx->visit(longPath);
    QVERIFY2(r.status == 414, qPrintable(r.describe()));
    QVERIFY(!m_fx->service()->stdoutData().contains("uuuuuuuu"));

    const CurlResult ok = m_fx->visit(QStringLiteral("/echo/") + QString(3000, QLatin1Char('v')));
    QVERIFY2(ok.status == 200, qPrintable(ok.describe()));
}

void TestTunnelFailures::testProxyHostIsNotATunnel()
{
    QVERIFY2(m_fx->start(), qPrintable(m_fx->errorString()));
    const CurlResult r = runCurl(m_fx->resolveArgs() + QStringList{m_fx->proxyUrl(QStringLiteral("/echo?no-label"))});
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 404);
    QVERIFY(!m_fx->service()->stdoutData().contains("no-label"));
}

void TestTunnelFailures::testCleanShutdown()
{
    QVERIFY2(m_fx->start(), qPrintable(m_fx->errorString()));
    m_fx->client()->terminate();
    QVERIFY2(m_fx->client()->waitForExit(10000), qPrintable(m_fx->client()->errorString()));
    QCOMPARE(m_fx->client()->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_fx->client()->exitCode(), 0);
    // The client said goodbye, so its hostname is offline at once.
    const CurlResult r = m_fx->visit(QStringLiteral("/echo"));
    QCOMPARE(r.status, 404);

    m_fx->proxy()->terminate();
    QVERIFY2(m_fx->proxy()->waitForExit(10000), qPrintable(m_fx->proxy()->errorString()));
    QCOMPARE(m_fx->proxy()->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_fx->proxy()->exitCode(), 0);
}

// README: SIGTERM stops accepting, lets requests in flight finish (for up to 5 s) and then exits.
void TestTunnelFailures::testSigtermDrainsRequestsInFlight()
{
    QVERIFY2(m_fx->start(), qPrintable(m_fx->errorString()));
    auto job = startCurl(m_fx->resolveArgs() + QStringList{m_fx->visitorUrl(QStringLiteral("/slow/2000"))});
    // The request is in flight once the local service has it.
    QVERIFY2(
        m_fx->service()->waitForLine(QRegularExpression(QStringLiteral("^request GET /slow/2000$")), 15000).hasMatch(),
        qPrintable(m_fx->service()->errorString()));
    m_fx->proxy()->terminate();
    // No longer accepting: a new visitor is refused while the old request drains.
    QTRY_VERIFY_WITH_TIMEOUT(
        runCurl(m_fx->resolveArgs() + QStringList{m_fx->visitorUrl(QStringLiteral("/echo"))}, 5000).exitCode
            == 7, // curl: could not connect
        5000);
    QVERIFY(m_fx->proxy()->isRunning());
    const CurlResult r = job->wait(15000);
    QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
    QCOMPARE(r.status, 200);
    QVERIFY2(m_fx->proxy()->waitForExit(10000), qPrintable(m_fx->proxy()->errorString()));
    QCOMPARE(m_fx->proxy()->exitStatus(), QProcess::NormalExit);
    QCOMPARE(m_fx->proxy()->exitCode(), 0);
}

QTEST_GUILESS_MAIN(TestTunnelFailures)
#include "TestTunnelFailures.moc"
