// Scale-out end to end: three keyhole-proxy instances share tunnels through a real redis-server, with
// a real haproxy in front; visitors and clients both go through haproxy (or straight to one instance
// where a case needs that). Bodies are checked by SHA-256; every wait is on a condition.

#include "ScaleOutCluster.h"
#include "TestSupport.h"
#include "VisitorLoad.h"

#include <QTcpSocket>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMap>
#include <QProcess>
#include <QRegularExpression>
#include <QScopeGuard>
#include <QStandardPaths>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <vector>

using namespace keyhole::testing;

namespace {

const QStringList NoExpect{QStringLiteral("-H"), QStringLiteral("Expect:")};

QByteArray servedBy(const CurlResult &r)
{
    return r.header("X-Keyhole-Request-Id").split('-').first();
}

int countLines(const QByteArray &text, const QByteArray &needle)
{
    return int(text.count(needle));
}

} // namespace

class TestScaleOut : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanup();
    void cleanupTestCase();

    void testHttpAcrossInstances_data();
    void testHttpAcrossInstances();
    void testWebSocketAcrossInstances();
    void testStreamsAcrossInstances();
    void testHundredThousandRequests();
    void testKillOwnerFailsOver();
    void testRedisRestartUnderLoad();
    void testRedisFrozen_data();
    void testRedisFrozen();
    void testSlowInstanceDroppedAndRecovers();
    void testNewestRegistrationReplacesAcrossInstances();

private:
    int owner() const { return m_cluster->ownerOf(m_cluster->label()); }
    int otherThan(int index) const { return (index + 1) % ScaleOutCluster::kInstances; }
    bool waitCrossInstanceOk(int via, int timeoutMs);

    std::unique_ptr<ScaleOutCluster> m_cluster;
};

void TestScaleOut::initTestCase()
{
    const QString missing = ScaleOutCluster::missingPrograms();
    if (!missing.isEmpty())
        QSKIP(qPrintable(QStringLiteral("needs %1 (scripts/test.sh installs them)").arg(missing)));
    m_cluster = std::make_unique<ScaleOutCluster>();
    QVERIFY2(m_cluster->start(), qPrintable(m_cluster->errorString()));
    QVERIFY(owner() >= 0);
}

void TestScaleOut::cleanup()
{
    if (QTest::currentTestFailed() && m_cluster)
        m_cluster->dumpOutput();
}

void TestScaleOut::cleanupTestCase()
{
    m_cluster.reset();
}

bool TestScaleOut::waitCrossInstanceOk(int via, int timeoutMs)
{
    return QTest::qWaitFor(
        [&] {
            return m_cluster
                       ->visit(QStringLiteral("/status/200"), {QStringLiteral("-m"), QStringLiteral("5")},
                               m_cluster->proxyPort(via), 8000)
                       .status
                == 200;
        },
        timeoutMs);
}

void TestScaleOut::testHttpAcrossInstances_data()
{
    QTest::addColumn<int>("size");
    QTest::newRow("1 byte") << 1;
    QTest::newRow("64 KiB") << 65536;
    QTest::newRow("body limit") << ScaleOutCluster::kMaxRequestBody;
}

void TestScaleOut::testHttpAcrossInstances()
{
    QFETCH(int, size);
    const QByteArray holder = m_cluster->instanceId(owner());
    const QByteArray upload = deterministicBytes(size, "up" + QByteArray::number(size));
    const QString file = m_cluster->tempPath(QStringLiteral("upload-%1").arg(size));
    QVERIFY(writeFile(file, upload));
    // Round robin: in a few consecutive visits through haproxy, both other instances serve some.
    QSet<QByteArray> servers;
    for (int i = 0; i < 6; ++i) {
        const QByteArray seed = "down" + QByteArray::number(i);
        const CurlResult down = m_cluster->visit(
            QStringLiteral("/bytes/%1?seed=%2").arg(size).arg(QString::fromLatin1(seed)));
        QVERIFY2(down.status == 200, qPrintable(down.describe()));
        QCOMPARE(sha256Hex(down.body), sha256Hex(deterministicBytes(size, seed)));
        servers.insert(servedBy(down));

        const CurlResult up = m_cluster->visit(QStringLiteral("/echo?raw=1"),
                                               NoExpect + QStringList{QStringLiteral("--data-binary"), u'@' + file});
        QVERIFY2(up.status == 200, qPrintable(up.describe()));
        QCOMPARE(sha256Hex(up.body), sha256Hex(upload));
        servers.insert(servedBy(up));
    }
    servers.remove(holder);
    QVERIFY2(servers.size() == ScaleOutCluster::kInstances - 1, "visitors were served by every other instance");

    // One byte over the limit: 413 from whichever instance the visitor reached.
    if (size == ScaleOutCluster::kMaxRequestBody) {
        QVERIFY(writeFile(file, upload + 'x'));
        const CurlResult over = m_cluster->visit(QStringLiteral("/echo?raw=1"),
                                                 NoExpect + QStringList{QStringLiteral("--data-binary"), u'@' + file});
        QCOMPARE(over.status, 413);
    }
}

void TestScaleOut::testStreamsAcrossInstances()
{
    // Served by an instance that does not hold the tunnel: body chunks and credit cross Redis, a
    // window per exchange at a time.
    const int holder = owner();
    QVERIFY(holder >= 0);
    const quint16 port = m_cluster->proxyPort(otherThan(holder));

    constexpr int kBig = 48 * 1024 * 1024;
    const CurlResult big = runCurl(
        m_cluster->resolveArgs(m_cluster->label(), port)
            + QStringList{QStringLiteral("-m"), QStringLiteral("120"),
                          m_cluster->url(m_cluster->label(), port, QStringLiteral("/big/%1").arg(kBig))},
        130000);
    QVERIFY2(big.status == 200, qPrintable(big.describe()));
    QCOMPARE(big.body.size(), qsizetype(kBig));
    QCOMPARE(sha256Hex(big.body), sha256Hex(QByteArray(kBig, 'x')));

    // Server-sent events: each arrives while the stream is still open, the first long before the last
    // is written (8 events 400 ms apart: the stream lasts 2.8 s, past nothing but its own pace).
    constexpr int kEvents = 8;
    constexpr int kIntervalMs = 400;
    QTcpSocket visitor;
    visitor.connectToHost(QHostAddress::LocalHost, port);
    QVERIFY(visitor.waitForConnected(5000));
    QElapsedTimer clock;
    clock.start();
    visitor.write(QStringLiteral("GET /events?n=%1&interval_ms=%2 HTTP/1.1\r\nHost: %3.localhost:%4\r\n"
                                 "Connection: close\r\n\r\n")
                      .arg(kEvents)
                      .arg(kIntervalMs)
                      .arg(m_cluster->label())
                      .arg(port)
                      .toLatin1());
    QByteArray received;
    qint64 firstEventMs = -1;
    QVERIFY(QTest::qWaitFor(
        [&] {
            received += visitor.readAll();
            if (firstEventMs < 0 && received.contains("data: event 0"))
                firstEventMs = clock.elapsed();
            return received.contains("data: event 7") || visitor.state() == QAbstractSocket::UnconnectedState;
        },
        30000));
    QVERIFY2(received.startsWith("HTTP/1.1 200"), received.left(200).constData());
    QVERIFY2(received.contains("text/event-stream"), received.left(400).constData());
    for (int i = 0; i < kEvents; ++i)
        QVERIFY2(received.contains(QByteArray("data: event ") + QByteArray::number(i)), received.constData());
    // The first event was delivered before the service had written the rest: well under the
    // stream's length (7 intervals), with room for a busy machine.
    QVERIFY2(firstEventMs >= 0 && firstEventMs < (kEvents - 1) * kIntervalMs / 2,
             qPrintable(QStringLiteral("first event after %1 ms").arg(firstEventMs)));
}

void TestScaleOut::testWebSocketAcrossInstances()
{
    const int wsOwner = m_cluster->ownerOf(m_cluster->wsLabel());
    QVERIFY(wsOwner >= 0);
    for (int i = 0; i < ScaleOutCluster::kInstances; ++i) {
        // Straight to each instance: two of them carry the WebSocket across Redis.
        ManagedProcess visitor(QStringLiteral("ws-visitor"));
        const quint16 port = m_cluster->proxyPort(i);
        QVERIFY(visitor.start(m_cluster->wsPython(),
                              {wsClientScript(), QStringLiteral("--url"),
                               QStringLiteral("ws://%1.localhost:%2/echo").arg(m_cluster->wsLabel()).arg(port),
                               QStringLiteral("--connect"), QStringLiteral("127.0.0.1:%1").arg(port),
                               QStringLiteral("echo"), QStringLiteral("--kind"), QStringLiteral("binary"),
                               QStringLiteral("--sizes"), QStringLiteral("1,125,65536,500000"),
                               QStringLiteral("--seed"), QString::number(i)}));
        QVERIFY(visitor.waitForExit(30000));
        const QList<QByteArray> lines = visitor.stdoutLines();
        const QJsonObject result = QJsonDocument::fromJson(lines.isEmpty() ? QByteArray() : lines.last()).object();
        QVERIFY2(result.value(QStringLiteral("ok")).toBool(), lines.isEmpty() ? "no output" : lines.last().constData());
    }
    // And through haproxy, where `timeout tunnel` keeps it open.
    ManagedProcess visitor(QStringLiteral("ws-visitor"));
    const quint16 port = m_cluster->haproxyPort();
    QVERIFY(visitor.start(m_cluster->wsPython(),
                          {wsClientScript(), QStringLiteral("--url"),
                           QStringLiteral("ws://%1.localhost:%2/echo").arg(m_cluster->wsLabel()).arg(port),
                           QStringLiteral("--connect"), QStringLiteral("127.0.0.1:%1").arg(port),
                           QStringLiteral("burst"), QStringLiteral("--count"), QStringLiteral("500")}));
    QVERIFY(visitor.waitForExit(30000));
    const QJsonObject result =
        QJsonDocument::fromJson(visitor.stdoutLines().value(visitor.stdoutLines().size() - 1)).object();
    QVERIFY2(result.value(QStringLiteral("ok")).toBool(), visitor.stdoutData().right(500).constData());
}

void TestScaleOut::testHundredThousandRequests()
{
    const QString wrk = QStandardPaths::findExecutable(QStringLiteral("wrk"));
    RedisServer &redis = m_cluster->redis();
    const int instances = ScaleOutCluster::kInstances;
    const QString host = QStringLiteral("Host: %1.localhost:%2").arg(m_cluster->label()).arg(m_cluster->haproxyPort());
    const QString url = QStringLiteral("http://127.0.0.1:%1/status/200").arg(m_cluster->haproxyPort());
    double rate = 1000; // requests/s seen so far: sizes wrk's slices
    // Returns wrk's (or curl's) report; drives at least `requests` requests.
    auto drive = [&](int requests) -> QByteArray {
        if (wrk.isEmpty()) {
            // No wrk: curl in parallel batches, many URLs per process.
            int done = 0;
            while (done < requests) {
                std::vector<std::unique_ptr<CurlJob>> batch;
                for (int j = 0; j < 8 && done < requests; ++j) {
                    QStringList args{QStringLiteral("-H"), host, QStringLiteral("-o"), QStringLiteral("/dev/null")};
                    const int n = qMin(250, requests - done);
                    for (int k = 0; k < n; ++k)
                        args << url;
                    done += n;
                    batch.push_back(startCurl(args));
                }
                for (auto &job : batch) {
                    const CurlResult r = job->wait(120000);
                    for (const CurlTransfer &t : r.transfers) {
                        if (t.status != 200)
                            return "status " + QByteArray::number(t.status);
                    }
                }
            }
            return "Non-2xx: 0 (curl)";
        }
        // wrk runs for a duration: run it in slices sized from the rate seen so far, and add up.
        QByteArray reports;
        qint64 done = 0;
        while (done < requests) {
            const int seconds = qBound(2, int((requests - done) / rate) + 1, 60);
            QProcess process;
            process.start(wrk,
                          {QStringLiteral("-t2"), QStringLiteral("-c16"), QStringLiteral("-d%1s").arg(seconds),
                           QStringLiteral("--timeout"), QStringLiteral("10s"), QStringLiteral("-H"), host, url});
            if (!QTest::qWaitFor([&] { return process.state() == QProcess::NotRunning; }, (seconds + 30) * 1000))
                return "wrk did not finish";
            const QByteArray out = process.readAllStandardOutput();
            reports += out;
            const QRegularExpressionMatch m =
                QRegularExpression(QStringLiteral("(\\d+) requests in")).match(QString::fromLatin1(out));
            if (!m.hasMatch() || m.captured(1).toLongLong() == 0)
                return "wrk reported no requests: " + out;
            done += m.captured(1).toLongLong();
            rate = qMax(100.0, m.captured(1).toDouble() / seconds);
        }
        return reports + "total requests: " + QByteArray::number(done) + '\n';
    };

    // Warm up first: allocator pools and Qt's buffers reach their working size, then the baseline.
    const QByteArray warmup = drive(4000);
    QVERIFY2(!warmup.contains("Non-2xx or 3xx") && !warmup.startsWith("status"), warmup.constData());
    QTRY_COMPARE(redis.clientCount(), 2 * instances + 0);
    const int clientsBefore = redis.clientCount();
    const int channelsBefore = redis.channelCount();
    QList<qint64> rssBefore;
    for (int i = 0; i < instances; ++i)
        rssBefore << m_cluster->proxyRssKb(i);

    const QByteArray report = drive(100000);
    qInfo().noquote() << "100k requests through haproxy:\n" << report;
    QVERIFY2(!report.contains("Non-2xx or 3xx") && !report.contains("Socket errors") && !report.startsWith("status"),
             report.constData());
    if (!wrk.isEmpty()) {
        const QRegularExpressionMatch m =
            QRegularExpression(QStringLiteral("total requests: (\\d+)")).match(QString::fromLatin1(report));
        QVERIFY2(m.hasMatch() && m.captured(1).toInt() >= 100000, report.constData());
    }

    // Back to baseline: two connections and one inbox per instance, nothing per request or tunnel.
    QCOMPARE(redis.clientCount(), clientsBefore);
    QCOMPARE(redis.channelCount(), channelsBefore);
    QCOMPARE(channelsBefore, instances + 1); // the inboxes and keyhole:claims
    for (int i = 0; i < instances; ++i)
        QCOMPARE(
            redis.subscriberCount(QStringLiteral("keyhole:inbox:") + QString::fromLatin1(m_cluster->instanceId(i))), 1);
    // RSS: after the warm-up, 100k requests may move the allocator's high-water mark a little, but a
    // leak of even 100 bytes per request would add 10 MB. 8 MB is the tolerance.
    for (int i = 0; i < instances; ++i) {
        const qint64 after = m_cluster->proxyRssKb(i);
        qInfo() << "instance" << i + 1 << "RSS before" << rssBefore.at(i) << "KiB, after" << after << "KiB";
        QVERIFY2(after - rssBefore.at(i) < 8 * 1024,
                 qPrintable(QStringLiteral("p%1 grew from %2 to %3 KiB").arg(i + 1).arg(rssBefore.at(i)).arg(after)));
    }
}

void TestScaleOut::testKillOwnerFailsOver()
{
    const int victim = owner();
    QVERIFY(victim >= 0);
    const QString urlBefore = m_cluster->label();
    VisitorLoad load(*m_cluster, m_cluster->haproxyPort(), 4, QStringLiteral("failover"));
    load.start();
    QTRY_VERIFY(load.count(200) >= 20);

    const qint64 killedAt = load.now();
    m_cluster->killProxy(victim);
    // The client comes back through haproxy on another instance, with the same hostname.
    const auto online = m_cluster->client()->waitForLine(QRegularExpression(QStringLiteral("^Tunnel online: (\\S+)")),
                                                         15000);
    QVERIFY2(online.hasMatch(), "the client re-registered");
    QVERIFY(online.captured(1).contains(urlBefore));
    const bool flows = QTest::qWaitFor([&] { return load.okAfter(killedAt + 1) >= 10; }, 12000);
    load.stop();

    // The first request started after the kill that succeeded: the failover time.
    qint64 firstOk = -1;
    for (const auto &o : load.outcomes()) {
        if (o.status == 200 && o.startedMs > killedAt && (firstOk < 0 || o.endedMs < firstOk))
            firstOk = o.endedMs;
    }
    qInfo().noquote() << load.summary() << "| traffic flowed again" << (firstOk - killedAt) << "ms after kill -9";
    QVERIFY2(flows && firstOk > 0 && firstOk - killedAt < 10000, qPrintable(load.summary()));
    QCOMPARE(load.badBodies(), 0); // nothing cross-delivered
    const int newOwner = owner();
    QVERIFY(newOwner >= 0 && newOwner != victim);
    // Requests that met the dead instance failed fast: 502 (its inbox has no subscriber) or 404
    // (its claim expired), never a hang until the deadline.
    for (const auto &o : load.outcomes()) {
        if (o.startedMs > killedAt && o.status != 200) {
            QVERIFY2(o.status == 502 || o.status == 404 || o.status == 503,
                     qPrintable(QStringLiteral("status %1").arg(o.status)));
            QVERIFY2(o.endedMs - o.startedMs < 3000, qPrintable(load.summary()));
        }
    }

    QVERIFY2(m_cluster->startProxy(victim), qPrintable(m_cluster->errorString()));
    QVERIFY2(m_cluster->waitAllHealthy(20000), qPrintable(m_cluster->errorString()));
}

void TestScaleOut::testRedisRestartUnderLoad()
{
    const int holder = owner();
    QVERIFY(holder >= 0);
    const int reconnectsBefore = countLines(m_cluster->client()->stderrData(), "connecting to");
    VisitorLoad local(*m_cluster, m_cluster->proxyPort(holder), 2, QStringLiteral("local"));
    VisitorLoad remote(*m_cluster, m_cluster->proxyPort(otherThan(holder)), 2, QStringLiteral("remote"));
    local.start();
    remote.start();
    QTRY_VERIFY(local.count(200) >= 5 && remote.count(200) >= 5);

    QVERIFY2(m_cluster->redis().restart(), qPrintable(m_cluster->redis().errorString()));
    const qint64 restartedAt = remote.now();
    // Every instance resubscribes and the holder claims its tunnels again.
    QTRY_VERIFY_WITH_TIMEOUT(m_cluster->redis().channelCount() == ScaleOutCluster::kInstances + 1, 15000);
    QTRY_COMPARE_WITH_TIMEOUT(owner(), holder, 15000);
    QTRY_VERIFY_WITH_TIMEOUT(remote.okAfter(restartedAt + 200) >= 5, 15000);
    local.stop();
    remote.stop();
    qInfo().noquote() << local.summary() << "|" << remote.summary();

    QCOMPARE(local.count(200), local.outcomes().size()); // the local tunnel never dropped
    QCOMPARE(local.badBodies() + remote.badBodies(), 0);
    for (const auto &o : remote.outcomes())
        QVERIFY2(o.status == 200 || o.status == 503 || o.status == 502, qPrintable(remote.summary()));
    QCOMPARE(countLines(m_cluster->client()->stderrData(), "connecting to"), reconnectsBefore); // no client reconnected
    QVERIFY(m_cluster->waitAllHealthy(15000));
}

void TestScaleOut::testRedisFrozen_data()
{
    QTest::addColumn<int>("frozenMs");
    QTest::newRow("3 s") << 3000;
    QTest::newRow("longer than the TTL") << (ScaleOutCluster::kTtlSecs * 1000 + 1500);
}

void TestScaleOut::testRedisFrozen()
{
    QFETCH(int, frozenMs);
    const int holder = owner();
    QVERIFY(holder >= 0);
    const int reconnectsBefore = countLines(m_cluster->client()->stderrData(), "connecting to");
    VisitorLoad local(*m_cluster, m_cluster->proxyPort(holder), 2, QStringLiteral("local"));
    VisitorLoad remote(*m_cluster, m_cluster->proxyPort(otherThan(holder)), 2, QStringLiteral("remote"));
    local.start();
    remote.start();
    QTRY_VERIFY(local.count(200) >= 5 && remote.count(200) >= 5);

    m_cluster->redis().freeze();
    const qint64 frozenAt = remote.now();
    // A visitor that arrives while Redis is stopped is told before Redis comes back. (The load's
    // own requests may all be ones already in flight, answered late once Redis continues.)
    const quint16 remotePort = m_cluster->proxyPort(otherThan(holder));
    const CurlResult probe = runCurl(
        m_cluster->resolveArgs(m_cluster->label(), remotePort)
            + QStringList{QStringLiteral("-m"), QStringLiteral("15"),
                          m_cluster->url(m_cluster->label(), remotePort, QStringLiteral("/bytes/16"))},
        20000);
    const qint64 probeMs = remote.now() - frozenAt;
    const qint64 leftMs = frozenMs - probeMs;
    if (leftMs > 0)
        QTest::qWait(int(leftMs)); // the point of the case: Redis stays stopped this long
    m_cluster->redis().thaw();
    QVERIFY2(probe.status == 503 || probe.status == 504 || probe.status == 502, qPrintable(probe.describe()));
    QVERIFY2(probeMs < frozenMs, qPrintable(QStringLiteral("told after %1 ms").arg(probeMs)));
    const qint64 thawedAt = remote.now();
    QTRY_VERIFY_WITH_TIMEOUT(remote.okAfter(thawedAt + 100) >= 5, 20000);
    local.stop();
    remote.stop();
    qInfo().noquote() << local.summary() << "|" << remote.summary() << "| recovered within" << remote.now() - thawedAt
                      << "ms";

    QCOMPARE(local.count(200), local.outcomes().size()); // held here: served all along
    QCOMPARE(local.badBodies() + remote.badBodies(), 0);
    // Nothing hangs: while frozen, cross-instance visitors got 503 (Redis did not answer in time)
    // or 504/502, each well within the request deadline.
    for (const auto &o : remote.outcomes()) {
        QVERIFY2(o.status == 200 || o.status == 503 || o.status == 504 || o.status == 502,
                 qPrintable(remote.summary()));
        QVERIFY2(o.endedMs - o.startedMs <= (ScaleOutCluster::kRequestTimeoutSecs + 2) * 1000,
                 qPrintable(remote.summary()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(owner(), holder, 10000); // claimed again after an expiry
    QCOMPARE(countLines(m_cluster->client()->stderrData(), "connecting to"), reconnectsBefore);
    QVERIFY(m_cluster->waitAllHealthy(15000));
}

void TestScaleOut::testSlowInstanceDroppedAndRecovers()
{
    const int slow = owner();
    QVERIFY(slow >= 0);
    const QString inbox = QStringLiteral("keyhole:inbox:") + QString::fromLatin1(m_cluster->instanceId(slow));
    QCOMPARE(m_cluster->redis().subscriberCount(inbox), 1);
    const QString file = m_cluster->tempPath(QStringLiteral("stream"));
    QVERIFY(writeFile(file, deterministicBytes(500000, "stream")));

    // Each exchange keeps at most a window of its body in flight, and the visitor side pauses while
    // the holder is behind, so a frozen instance no longer fills the cluster's 2 MiB pub/sub bound:
    // for the drop to happen (and be recovered from), this case lowers the bound below a few windows.
    QCOMPARE(m_cluster->redis()
                 .cli({QStringLiteral("CONFIG"), QStringLiteral("SET"), QStringLiteral("client-output-buffer-limit"),
                       QStringLiteral("pubsub 256kb 128kb 1")})
                 .trimmed(),
             QByteArray("OK"));
    const auto restoreBound = qScopeGuard([this] {
        m_cluster->redis().cli({QStringLiteral("CONFIG"), QStringLiteral("SET"),
                                QStringLiteral("client-output-buffer-limit"), QStringLiteral("pubsub 2mb 1mb 1")});
    });
    m_cluster->freezeProxy(slow);
    // The other instances stream bodies to it until Redis gives up on its subscription. What the kernel
    // holds for the stopped instance before Redis's own buffer grows depends on the socket buffers that
    // earlier traffic grew (up to megabytes), so uploads start in waves until Redis drops it.
    std::vector<std::unique_ptr<CurlJob>> uploads;
    const auto subscriptionDropped = [&] { return m_cluster->redis().subscriberCount(inbox) == 0; };
    constexpr int kWave = 12;
    constexpr int kMaxUploads = 8 * kWave; // 96 windows of 256 KiB: 24 MiB in flight at most
    bool dropped = false;
    while (!dropped && int(uploads.size()) < kMaxUploads) {
        for (int i = 0; i < kWave; ++i) {
            const int via = (slow + 1 + i % 2) % ScaleOutCluster::kInstances;
            const quint16 port = m_cluster->proxyPort(via);
            uploads.push_back(startCurl(
                m_cluster->resolveArgs(m_cluster->label(), port) + NoExpect
                + QStringList{QStringLiteral("-m"), QStringLiteral("60"), QStringLiteral("--data-binary"), u'@' + file,
                              m_cluster->url(m_cluster->label(), port, QStringLiteral("/echo?raw=1"))}));
        }
        dropped = QTest::qWaitFor(subscriptionDropped, 2500);
    }
    if (!dropped)
        dropped = QTest::qWaitFor(subscriptionDropped, 5000);
    qInfo() << uploads.size() << "uploads to the stopped instance before Redis dropped it";
    m_cluster->thawProxy(slow);
    QVERIFY2(dropped, "Redis dropped the stopped instance's subscription");

    // It notices, fails what was in flight, and subscribes again; nothing waits for the deadline.
    QTRY_VERIFY_WITH_TIMEOUT(m_cluster->proxy(slow)->stderrData().contains("subscription lost"), 10000);
    QTRY_COMPARE_WITH_TIMEOUT(m_cluster->redis().subscriberCount(inbox), 1, 10000);
    QMap<int, int> statuses;
    for (auto &job : uploads) {
        const CurlResult r = job->wait(30000);
        ++statuses[r.status];
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QVERIFY2(r.status == 200 || r.status == 502 || r.status == 503 || r.status == 504 || r.status == 404,
                 qPrintable(r.describe()));
        if (r.status == 200)
            QCOMPARE(sha256Hex(r.body), sha256Hex(deterministicBytes(500000, "stream")));
    }
    qInfo() << "uploads to the stopped instance:" << statuses;
    QVERIFY(waitCrossInstanceOk(otherThan(slow), 15000));
    QVERIFY(m_cluster->waitAllHealthy(15000));
}

void TestScaleOut::testNewestRegistrationReplacesAcrossInstances()
{
    // Clients with one key and name, one after the other through haproxy: round robin puts the next on
    // another instance, whose claim replaces the one before across instances. Another connection
    // through haproxy in between (a client reconnecting) can land one on the same instance as the one
    // before, which replaces it there; then one more is started, up to a few.
    const QStringList args{
        QStringLiteral("--proxy"), QStringLiteral("http://localhost:%1").arg(m_cluster->haproxyPort()),
        QStringLiteral("--port"),  QString::number(m_cluster->proxyPort(0)), // any port: never visited
        QStringLiteral("--key"),   m_cluster->tempPath(QStringLiteral("key.pem")),
        QStringLiteral("--name"),  QStringLiteral("twice")};
    const QRegularExpression online(QStringLiteral("^Tunnel online: http://([a-z2-7]+)\\."));
    std::vector<std::unique_ptr<ManagedProcess>> clients;
    QString label;
    int previousHolder = -1;
    int holder = -1;
    for (int attempt = 0; attempt < 4 && (clients.size() < 2 || holder == previousHolder); ++attempt) {
        auto client = std::make_unique<ManagedProcess>(QStringLiteral("client-%1").arg(attempt));
        QVERIFY(client->start(cliProgram(), args));
        const auto m = client->waitForLine(online, 20000);
        QVERIFY2(m.hasMatch(), client->stderrData().right(1000).constData());
        label = m.captured(1);
        previousHolder = holder;
        holder = m_cluster->ownerOf(label);
        QVERIFY(holder >= 0);
        clients.push_back(std::move(client));
    }
    QVERIFY2(clients.size() >= 2 && previousHolder >= 0 && holder != previousHolder,
             qPrintable(QStringLiteral("holders %1 then %2 after %3 clients")
                            .arg(previousHolder)
                            .arg(holder)
                            .arg(qsizetype(clients.size()))));

    // The one before is told "replaced" and exits with 4 without reconnecting; the newest stays.
    ManagedProcess &replaced = *clients[clients.size() - 2];
    ManagedProcess &newest = *clients.back();
    QVERIFY(replaced.waitForExit(10000));
    QCOMPARE(replaced.exitCode(), 4);
    QTest::qWait(500);
    QVERIFY(newest.isRunning());
    QCOMPARE(m_cluster->ownerOf(label), holder);
}

QTEST_GUILESS_MAIN(TestScaleOut)
#include "TestScaleOut.moc"
