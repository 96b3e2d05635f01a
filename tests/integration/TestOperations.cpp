// Running the programs as an operator does: --config files for keyhole-proxy and keyhole-cli, SIGHUP
// reloading the proxy's limits while a tunnel stays up, and GET /metrics scraped after real traffic
// (and checked by promtool when it is installed).
#include "TestSupport.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTest>

#include <csignal>
#include <memory>

#include <signal.h>
#include <sys/types.h>

using namespace keyhole::testing;

namespace {

// The value of one sample (`name{labels}` exactly as rendered) in a scrape; -1 when absent.
double sample(const QByteArray &scrape, const QByteArray &series)
{
    for (const QByteArray &line : scrape.split('\n')) {
        if (line.startsWith(series + ' '))
            return line.mid(series.size() + 1).toDouble();
    }
    return -1;
}

QString promtoolProgram()
{
    return QStandardPaths::findExecutable(QStringLiteral("promtool"));
}

// promtool's verdict on a scrape: empty when it has nothing to say.
QString promtoolProblems(const QByteArray &scrape)
{
    QProcess promtool;
    promtool.start(promtoolProgram(), {QStringLiteral("check"), QStringLiteral("metrics")});
    if (!promtool.waitForStarted(10000))
        return QStringLiteral("promtool did not start");
    promtool.write(scrape);
    promtool.closeWriteChannel();
    if (!promtool.waitForFinished(30000))
        return QStringLiteral("promtool did not finish");
    const QString output = QString::fromUtf8(promtool.readAllStandardOutput() + promtool.readAllStandardError());
    if (promtool.exitCode() != 0 || !output.trimmed().isEmpty())
        return QStringLiteral("exit %1: %2").arg(promtool.exitCode()).arg(output);
    return {};
}

bool waitForStderr(ManagedProcess *process, const QByteArray &text, int timeoutMs = 15000)
{
    QElapsedTimer timer;
    timer.start();
    while (!process->stderrData().contains(text)) {
        if (timer.elapsed() > timeoutMs || !process->isRunning())
            return false;
        QTest::qWait(20);
    }
    return true;
}

} // namespace

class TestOperations : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanup();
    void proxyConfigErrorNamesFileAndLine_data();
    void proxyConfigErrorNamesFileAndLine();
    void cliConfigErrorNamesFileAndLine();
    void proxyFlagsWinOverTheFile();
    void cliFlagsWinOverTheFile();
    void sighupReloadsRateLimitWhileTheTunnelStays();
    void sighupWithABadFileChangesNothing();
    void sighupChangesTheLogLevel();
    void metricsOnTheProxysOwnHost();
    void metricsListenerOfItsOwn();
    void metricsCountWebSockets();
    void cliMetrics();

private:
    QString writeConfig(const QString &name, const QByteArray &text);
    QByteArray scrape(const QString &url, const QStringList &curlArgs = {});

    QTemporaryDir m_dir;
    std::unique_ptr<TunnelFixture> m_fx;
};

void TestOperations::cleanup()
{
    if (QTest::currentTestFailed() && m_fx)
        m_fx->dumpOutput();
    m_fx.reset();
}

QString TestOperations::writeConfig(const QString &name, const QByteArray &text)
{
    const QString path = m_dir.filePath(name);
    writeFile(path, text);
    return path;
}

QByteArray TestOperations::scrape(const QString &url, const QStringList &curlArgs)
{
    const CurlResult r = runCurl(curlArgs + QStringList{url});
    if (r.exitCode != 0 || r.status != 200) {
        qWarning("%s", qPrintable(r.describe()));
        return {};
    }
    if (!r.header("Content-Type").startsWith("text/plain; version=0.0.4")) {
        qWarning("Content-Type %s", r.header("Content-Type").constData());
        return {};
    }
    return r.body;
}

void TestOperations::proxyConfigErrorNamesFileAndLine_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QString>("message"); // after "<path>:"
    QTest::newRow("unknown option") << QByteArray("# limits\n\nrate-limit = 5\nfoo = 1\n")
                                    << QStringLiteral("4: unknown option \"foo\"");
    QTest::newRow("bad value") << QByteArray("domain = example.com\nrate-limit = lots\n")
                               << QStringLiteral("2: --rate-limit: expected a number");
    QTest::newRow("not name = value") << QByteArray("listen\n") << QStringLiteral("1: expected name = value");
    QTest::newRow("flags that go together")
        << QByteArray("tls-cert = /nonexistent.pem\n") << QStringLiteral("1: --tls-cert and --tls-key go together");
}

void TestOperations::proxyConfigErrorNamesFileAndLine()
{
    QFETCH(QByteArray, file);
    QFETCH(QString, message);
    const QString path = writeConfig(QStringLiteral("proxy.conf"), file);
    ManagedProcess proxy(QStringLiteral("proxy"));
    QVERIFY2(proxy.start(proxyProgram(),
                         {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"), QStringLiteral("--config"), path}),
             qPrintable(proxy.errorString()));
    QVERIFY(proxy.waitForExit());
    QCOMPARE(proxy.exitCode(), 2);
    QVERIFY2(proxy.stderrData().contains((path + QLatin1Char(':') + message).toUtf8()), proxy.stderrData().constData());
    QVERIFY2(!proxy.stdoutData().contains("listening on"), proxy.stdoutData().constData());
}

void TestOperations::cliConfigErrorNamesFileAndLine()
{
    const QString path = writeConfig(QStringLiteral("cli.conf"), "port = 8000\n# how it logs\nlog-format = xml\n");
    ManagedProcess cli(QStringLiteral("client"));
    QVERIFY2(cli.start(cliProgram(),
                       {QStringLiteral("--config"), path, QStringLiteral("--key"),
                        m_dir.filePath(QStringLiteral("key.pem"))}),
             qPrintable(cli.errorString()));
    QVERIFY(cli.waitForExit());
    QCOMPARE(cli.exitCode(), 2);
    QVERIFY2(cli.stderrData().contains((path + QStringLiteral(":3: --log-format must be text or json")).toUtf8()),
             cli.stderrData().constData());

    const QString unknown = writeConfig(QStringLiteral("cli2.conf"), "prxy = http://localhost:1\n");
    ManagedProcess cli2(QStringLiteral("client"));
    QVERIFY(cli2.start(cliProgram(), {QStringLiteral("--config"), unknown}));
    QVERIFY(cli2.waitForExit());
    QCOMPARE(cli2.exitCode(), 2);
    QVERIFY2(cli2.stderrData().contains((unknown + QStringLiteral(":1: unknown option \"prxy\"")).toUtf8()),
             cli2.stderrData().constData());
}

void TestOperations::proxyFlagsWinOverTheFile()
{
    // The file's domain loses to the flag; its --metrics-listen, which no flag gives, applies.
    const QString path = writeConfig(QStringLiteral("proxy.conf"),
                                     "domain = from-the-file.test\nmetrics-listen = 127.0.0.1:0\n");
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(
        m_fx->startProxy({QStringLiteral("--config"), path, QStringLiteral("--domain"), QStringLiteral("localhost")}),
        qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->proxy()->stdoutData().contains(
                 QStringLiteral("public URL http://localhost:%1").arg(m_fx->proxyPort()).toUtf8()),
             m_fx->proxy()->stdoutData().constData());
    const QRegularExpressionMatch metrics = m_fx->proxy()->waitForLine(
        QRegularExpression(QStringLiteral("metrics on 127\\.0\\.0\\.1:(\\d+)/metrics")));
    QVERIFY2(metrics.hasMatch(), m_fx->proxy()->stdoutData().constData());
}

void TestOperations::cliFlagsWinOverTheFile()
{
    // The file's proxy and target (where nothing listens) lose to --proxy and --port; its log format,
    // which no flag gives, applies.
    const quint16 nowhere = freeTcpPort();
    const QString path = writeConfig(
        QStringLiteral("cli.conf"),
        QStringLiteral("proxy = http://127.0.0.1:%1\ntarget = http://127.0.0.1:%1\nlog-format = json\n")
            .arg(nowhere)
            .toUtf8());
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->startService(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startProxy(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startClient({QStringLiteral("--config"), path}), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->client()->stderrData().startsWith("{"), m_fx->client()->stderrData().left(300).constData());
    const CurlResult r = m_fx->visit(QStringLiteral("/status/200"));
    QVERIFY2(r.exitCode == 0 && r.status == 200, qPrintable(r.describe()));
}

void TestOperations::sighupReloadsRateLimitWhileTheTunnelStays()
{
    const QString path = writeConfig(QStringLiteral("proxy.conf"), "rate-limit = 1000\nrate-burst = 1000\n");
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->start({QStringLiteral("--config"), path}), qPrintable(m_fx->errorString()));
    for (int i = 0; i < 3; ++i) {
        const CurlResult r = m_fx->visit(QStringLiteral("/status/200"));
        QVERIFY2(r.exitCode == 0 && r.status == 200, qPrintable(r.describe()));
    }

    // One request, then none for ~1000 s; and a line of something that needs a restart.
    writeFile(path, "rate-limit = 0.001\nrate-burst = 1\nmax-headers = 50\n");
    QCOMPARE(::kill(pid_t(m_fx->proxy()->pid()), SIGHUP), 0);
    QVERIFY2(waitForStderr(m_fx->proxy(), "reload: --rate-limit 0.001 (was 1000)"),
             m_fx->proxy()->stderrData().right(2000).constData());
    QVERIFY(waitForStderr(m_fx->proxy(), "reload: --max-headers changed: it needs a restart"));

    const CurlResult first = m_fx->visit(QStringLiteral("/status/200"));
    QVERIFY2(first.exitCode == 0 && first.status == 200, qPrintable(first.describe()));
    const CurlResult second = m_fx->visit(QStringLiteral("/status/200"));
    QCOMPARE(second.status, 429);
    QVERIFY(m_fx->proxy()->isRunning());
    QVERIFY(m_fx->client()->isRunning());
    QCOMPARE(m_fx->client()->stdoutData().count("Tunnel online:"), qsizetype(1)); // never reconnected

    // And back: the same tunnel serves again.
    writeFile(path, "rate-limit = 1000\nrate-burst = 1000\n");
    QCOMPARE(::kill(pid_t(m_fx->proxy()->pid()), SIGHUP), 0);
    QVERIFY(waitForStderr(m_fx->proxy(), "reload: --rate-limit 1000 (was 0.001)"));
    const CurlResult again = m_fx->visit(QStringLiteral("/status/200"));
    QVERIFY2(again.exitCode == 0 && again.status == 200, qPrintable(again.describe()));
    QCOMPARE(m_fx->client()->stdoutData().count("Tunnel online:"), qsizetype(1));
}

void TestOperations::sighupWithABadFileChangesNothing()
{
    const QString path = writeConfig(QStringLiteral("proxy.conf"), "rate-limit = 1000\n");
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->start({QStringLiteral("--config"), path}), qPrintable(m_fx->errorString()));
    writeFile(path, "rate-limit = 0.001\nrate-burst = 1\nbogus = 1\n");
    QCOMPARE(::kill(pid_t(m_fx->proxy()->pid()), SIGHUP), 0);
    QVERIFY2(waitForStderr(m_fx->proxy(), "reload refused, nothing changed: " + path.toUtf8() + ":3: unknown option"),
             m_fx->proxy()->stderrData().right(2000).constData());
    for (int i = 0; i < 3; ++i) {
        const CurlResult r = m_fx->visit(QStringLiteral("/status/200"));
        QVERIFY2(r.exitCode == 0 && r.status == 200, qPrintable(r.describe()));
    }
    QVERIFY(m_fx->proxy()->isRunning());
}

void TestOperations::sighupChangesTheLogLevel()
{
    const QString path = writeConfig(QStringLiteral("proxy.conf"), "log-level = info\n");
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->start({QStringLiteral("--config"), path}), qPrintable(m_fx->errorString()));
    // The access log shows method, path (without the query) and status.
    QCOMPARE(m_fx->visit(QStringLiteral("/status/201")).status, 201);
    QVERIFY(waitForStderr(m_fx->proxy(), "GET /status/201 201"));

    writeFile(path, "log-level = warning\n");
    QCOMPARE(::kill(pid_t(m_fx->proxy()->pid()), SIGHUP), 0);
    QVERIFY(waitForStderr(m_fx->proxy(), "reload: --log-level warning"));
    QCOMPARE(m_fx->visit(QStringLiteral("/status/202")).status, 202);

    // Back to info: its line comes after anything the request could have logged.
    writeFile(path, "log-level = info\n");
    QCOMPARE(::kill(pid_t(m_fx->proxy()->pid()), SIGHUP), 0);
    QVERIFY(waitForStderr(m_fx->proxy(), "reload: --log-level info"));
    QVERIFY2(!m_fx->proxy()->stderrData().contains("/status/202"), m_fx->proxy()->stderrData().right(1500).constData());
    QCOMPARE(m_fx->visit(QStringLiteral("/status/203")).status, 203);
    QVERIFY(waitForStderr(m_fx->proxy(), "GET /status/203 203"));
}

void TestOperations::metricsOnTheProxysOwnHost()
{
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->start({QStringLiteral("--rate-limit"), QStringLiteral("0.001"), QStringLiteral("--rate-burst"),
                          QStringLiteral("5")}),
             qPrintable(m_fx->errorString()));
    const QString url = m_fx->proxyUrl(QStringLiteral("/metrics"));
    const QByteArray before = scrape(url, m_fx->resolveArgs());
    QVERIFY(!before.isEmpty());
    QCOMPARE(sample(before, "keyhole_tunnels_online"), 1.0);
    QCOMPARE(sample(before, "keyhole_registrations_total{outcome=\"accepted\",reason=\"\"}"), 1.0);
    QCOMPARE(sample(before, "keyhole_bus_up"), 1.0);
    const double ok = sample(before, "keyhole_requests_total{route=\"host\",code=\"2xx\"}");
    QCOMPARE(ok, 0.0);

    // Real traffic: 3 answers, 1 not found, then the burst of 5 is spent and the 6th is refused.
    for (const char *path : {"/status/200", "/status/201", "/status/204", "/status/404", "/status/200"})
        QVERIFY(m_fx->visit(QString::fromLatin1(path)).exitCode == 0);
    const CurlResult limited = m_fx->visit(QStringLiteral("/status/200"));
    QCOMPARE(limited.status, 429);
    const CurlResult upload = m_fx->visit(QStringLiteral("/status/200"),
                                          {QStringLiteral("--data-binary"), QStringLiteral("12345")});
    QCOMPARE(upload.status, 429);

    const QByteArray after = scrape(url, m_fx->resolveArgs());
    QCOMPARE(sample(after, "keyhole_requests_total{route=\"host\",code=\"2xx\"}"), 4.0);
    QCOMPARE(sample(after, "keyhole_requests_total{route=\"host\",code=\"4xx\"}"), 3.0); // a 404 and two 429s
    QCOMPARE(sample(after, "keyhole_rate_limited_total"), 2.0);
    QVERIFY(sample(after, "keyhole_request_duration_seconds_count") >= 7.0);
    QCOMPARE(sample(after, "keyhole_request_duration_seconds_bucket{le=\"+Inf\"}"),
             sample(after, "keyhole_request_duration_seconds_count"));
    QVERIFY(sample(after, "keyhole_requests_total{route=\"proxy\",code=\"2xx\"}") >= 1.0); // the first scrape
    QVERIFY(sample(after, "keyhole_visitor_connections_total") > sample(before, "keyhole_visitor_connections_total"));
    QVERIFY(sample(after, "keyhole_visitor_received_bytes_total")
            > sample(before, "keyhole_visitor_received_bytes_total") + 5 * 40);
    QVERIFY(sample(after, "keyhole_visitor_sent_bytes_total") > sample(before, "keyhole_visitor_sent_bytes_total"));

    // A tunnel's own host has no /metrics of the proxy's: it is the tunnel's path.
    const CurlResult onTunnel = m_fx->visit(QStringLiteral("/metrics"));
    QVERIFY(!onTunnel.body.contains("keyhole_tunnels_online"));

    if (promtoolProgram().isEmpty())
        QSKIP("promtool is missing (Debian package prometheus): the format was not checked");
    const QString problems = promtoolProblems(after);
    QVERIFY2(problems.isEmpty(), qPrintable(problems + QStringLiteral("\n") + QString::fromUtf8(after)));
}

void TestOperations::metricsListenerOfItsOwn()
{
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->startService(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startProxy({QStringLiteral("--metrics-listen"), QStringLiteral("127.0.0.1:0")}),
             qPrintable(m_fx->errorString()));
    const QRegularExpressionMatch line = m_fx->proxy()->waitForLine(
        QRegularExpression(QStringLiteral("metrics on 127\\.0\\.0\\.1:(\\d+)/metrics")));
    QVERIFY2(line.hasMatch(), m_fx->proxy()->stdoutData().constData());
    QVERIFY2(m_fx->startClient(), qPrintable(m_fx->errorString()));
    QVERIFY(m_fx->visit(QStringLiteral("/status/200")).status == 200);

    const QString url = QStringLiteral("http://127.0.0.1:%1/metrics").arg(line.captured(1));
    const QByteArray text = scrape(url);
    QCOMPARE(sample(text, "keyhole_tunnels_online"), 1.0);
    QCOMPARE(sample(text, "keyhole_requests_total{route=\"host\",code=\"2xx\"}"), 1.0);
    // With a listener of its own, the public host no longer answers it.
    const CurlResult apex = runCurl(m_fx->resolveArgs() + QStringList{m_fx->proxyUrl(QStringLiteral("/metrics"))});
    QCOMPARE(apex.status, 404);
    const CurlResult other = runCurl({QStringLiteral("http://127.0.0.1:%1/other").arg(line.captured(1))});
    QCOMPARE(other.status, 404);

    if (promtoolProgram().isEmpty())
        QSKIP("promtool is missing (Debian package prometheus): the format was not checked");
    const QString problems = promtoolProblems(text);
    QVERIFY2(problems.isEmpty(), qPrintable(problems));
}

void TestOperations::metricsCountWebSockets()
{
    QString error;
    const QString python = wsPythonProgram(&error);
    QVERIFY2(!python.isEmpty(), qPrintable(error));
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->startService(python, {wsServiceScript()}) && m_fx->startProxy() && m_fx->startClient(),
             qPrintable(m_fx->errorString()));
    ManagedProcess visitor(QStringLiteral("ws-client"));
    QVERIFY(visitor.start(python,
                          {wsClientScript(), QStringLiteral("--url"),
                           QStringLiteral("ws://") + m_fx->host() + QStringLiteral("/echo"),
                           QStringLiteral("--connect"), QStringLiteral("127.0.0.1:%1").arg(m_fx->proxyPort()),
                           QStringLiteral("echo"), QStringLiteral("--sizes"), QStringLiteral("1,10,100")}));
    QVERIFY(visitor.waitForExit(30000));
    QCOMPARE(visitor.exitCode(), 0);

    const QByteArray text = scrape(m_fx->proxyUrl(QStringLiteral("/metrics")), m_fx->resolveArgs());
    QCOMPARE(sample(text, "keyhole_websocket_opens_total"), 1.0);
    QCOMPARE(sample(text, "keyhole_requests_total{route=\"ws\",code=\"1xx\"}"), 1.0);
    QCOMPARE(sample(text, "keyhole_websocket_messages_total{direction=\"to_service\"}"), 3.0);
    QCOMPARE(sample(text, "keyhole_websocket_messages_total{direction=\"to_visitor\"}"), 3.0);
}

void TestOperations::cliMetrics()
{
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->startService(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startProxy(), qPrintable(m_fx->errorString()));
    QVERIFY2(m_fx->startClient({QStringLiteral("--metrics-listen"), QStringLiteral("127.0.0.1:0")}),
             qPrintable(m_fx->errorString()));
    const QRegularExpressionMatch line = QRegularExpression(
                                             QStringLiteral("metrics on http://127\\.0\\.0\\.1:(\\d+)/metrics"))
                                             .match(QString::fromUtf8(m_fx->client()->stderrData()));
    QVERIFY2(line.hasMatch(), m_fx->client()->stderrData().constData());
    const QString url = QStringLiteral("http://127.0.0.1:%1/metrics").arg(line.captured(1));

    const QByteArray before = scrape(url);
    QCOMPARE(sample(before, "keyhole_cli_state{state=\"online\"}"), 1.0);
    QCOMPARE(sample(before, "keyhole_cli_requests_total"), 0.0);
    QCOMPARE(sample(before, "keyhole_cli_reconnects_total"), 0.0);
    QCOMPARE(m_fx->visit(QStringLiteral("/status/200")).status, 200);
    QCOMPARE(m_fx->visit(QStringLiteral("/status/500")).status, 500);

    // The proxy goes and comes back: the client reconnects.
    QVERIFY2(m_fx->restartProxy(), qPrintable(m_fx->errorString()));
    QVERIFY(!m_fx->waitForOnline(m_fx->client()).isEmpty());
    QTRY_COMPARE_WITH_TIMEOUT(sample(scrape(url), "keyhole_cli_reconnects_total"), 1.0, 10000);
    const QByteArray after = scrape(url);
    QCOMPARE(sample(after, "keyhole_cli_requests_total"), 2.0);
    QCOMPARE(sample(after, "keyhole_cli_local_errors_total"), 0.0); // a 500 from the service is the service's
    QCOMPARE(sample(after, "keyhole_cli_state{state=\"online\"}"), 1.0);

    if (promtoolProgram().isEmpty())
        QSKIP("promtool is missing (Debian package prometheus): the format was not checked");
    const QString problems = promtoolProblems(after);
    QVERIFY2(problems.isEmpty(), qPrintable(problems));
}

QTEST_GUILESS_MAIN(TestOperations)
#include "TestOperations.moc"
