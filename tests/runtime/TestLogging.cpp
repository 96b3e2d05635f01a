#include "util/BatchedOutput.h"
#include "ClientLogging.h"
#include "ProxyLogging.h"
#include "bus/BusLogging.h"
#include "http/HttpLogging.h"
#include "visitors/VisitorLogging.h"
#include "protocol/ProtocolLogging.h"
#include "tunnels/TunnelLogging.h"
#include "util/LogSafe.h"
#include "util/Logging.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QRegularExpression>
#include <QTemporaryFile>
#include <QtTest>

#include <cstdio>

#ifdef Q_OS_WIN
#include <io.h>
#define dup _dup
#define dup2 _dup2
#define close _close
#else
#include <unistd.h>
#endif

using namespace keyhole::util;

namespace {

// Runs `f` with stderr redirected to a file and returns what it wrote.
template <typename F> QByteArray captureStderr(F f)
{
    QTemporaryFile file;
    if (!file.open())
        return QByteArray();
    std::fflush(stderr);
    const int saved = dup(2);
    dup2(file.handle(), 2);
    f();
    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    file.seek(0);
    return file.readAll();
}

} // namespace

class TestLogging : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void categories_data();
    void categories();
    void textFormat();
    void jsonFormat();
    void preformattedInfoLines();
    void preformattedLineOffWithItsCategory();
    void logSafeReplacesControlCharacters();
    void batchedUntilTheLoopWaits(); // last: batching stays on for the process
    void cleanupTestCase();
};

void TestLogging::categories_data()
{
    QTest::addColumn<QString>("name");
    QTest::addColumn<bool>("debug");
    QTest::addColumn<bool>("info");
    QTest::newRow("protocol") << QString::fromLatin1(lcProtocol().categoryName()) << lcProtocol().isDebugEnabled()
                              << lcProtocol().isInfoEnabled();
    QTest::newRow("proxy.tunnel") << QString::fromLatin1(lcProxyTunnel().categoryName())
                                  << lcProxyTunnel().isDebugEnabled() << lcProxyTunnel().isInfoEnabled();
    QTest::newRow("client.forwarder") << QString::fromLatin1(lcForwarder().categoryName())
                                      << lcForwarder().isDebugEnabled() << lcForwarder().isInfoEnabled();
}

void TestLogging::categories()
{
    QFETCH(QString, name);
    QFETCH(bool, debug);
    QFETCH(bool, info);
    QVERIFY(name.startsWith(QLatin1String("keyhole.")));
    if (qEnvironmentVariableIsEmpty("QT_LOGGING_RULES")) {
        QVERIFY(!debug);
        QVERIFY(info);
    }
    QCOMPARE(QString::fromLatin1(lcBus().categoryName()), QStringLiteral("keyhole.proxy.bus"));
    QCOMPARE(QString::fromLatin1(lcProxyHttp().categoryName()), QStringLiteral("keyhole.proxy.http"));
}

void TestLogging::textFormat()
{
    installLogFormat(LogFormat::Text);
    const QByteArray out = captureStderr([] {
        qCInfo(lcProxy, "hello %d", 42);
        qCWarning(lcHttp) << "two\nlines";
    });
    const QList<QByteArray> lines = out.split('\n');
    QCOMPARE(lines.size(), 3);
    QVERIFY(lines.at(2).isEmpty());
    const QRegularExpression re(
        QStringLiteral(R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info keyhole\.proxy: hello 42$)"));
    QVERIFY2(re.match(QString::fromUtf8(lines.at(0))).hasMatch(), lines.at(0).constData());
    QVERIFY2(lines.at(1).contains(" warning keyhole.http: "), lines.at(1).constData());
    QVERIFY(lines.at(1).contains("two\\nlines"));
}

void TestLogging::jsonFormat()
{
    installLogFormat(LogFormat::Json);
    const QByteArray out = captureStderr([] { qCWarning(lcClient) << "quote\" and\nnewline"; });
    QVERIFY(out.endsWith('\n'));
    QCOMPARE(out.count('\n'), 1);
    QJsonParseError error;
    const QJsonObject obj = QJsonDocument::fromJson(out.trimmed(), &error).object();
    QCOMPARE(error.error, QJsonParseError::NoError);
    QCOMPARE(obj.value(QStringLiteral("level")).toString(), QStringLiteral("warning"));
    QCOMPARE(obj.value(QStringLiteral("category")).toString(), QStringLiteral("keyhole.client"));
    QVERIFY(obj.value(QStringLiteral("msg")).toString().contains(QStringLiteral("and\nnewline")));
    QVERIFY(obj.value(QStringLiteral("ts")).toString().endsWith(QLatin1Char('Z')));
}

void TestLogging::preformattedInfoLines()
{
    // The access log's lines are built as bytes and bypass QDebug: they must come out as any other.
    installLogFormat(LogFormat::Text);
    QByteArray out = captureStderr([] {
        logInfoLine(lcProxyHttp(), "127.0.0.1 host GET /a 200 5 1ms id=x");
        qCInfo(lcProxyHttp) << "after";
    });
    QList<QByteArray> lines = out.split('\n');
    QCOMPARE(lines.size(), 3);
    const QRegularExpression re(QStringLiteral(
        R"(^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z info keyhole\.proxy\.http: 127\.0\.0\.1 host GET /a 200 5 1ms id=x$)"));
    QVERIFY2(re.match(QString::fromUtf8(lines.at(0))).hasMatch(), lines.at(0).constData());
    QVERIFY2(lines.at(1).endsWith(" info keyhole.proxy.http: after"), lines.at(1).constData());

    installLogFormat(LogFormat::Json);
    out = captureStderr([] { logInfoLine(lcProxyHttp(), "GET /b\nforged"); });
    QCOMPARE(out.count('\n'), 1);
    const QJsonObject obj = QJsonDocument::fromJson(out.trimmed()).object();
    QCOMPARE(obj.value(QStringLiteral("level")).toString(), QStringLiteral("info"));
    QCOMPARE(obj.value(QStringLiteral("category")).toString(), QStringLiteral("keyhole.proxy.http"));
    QCOMPARE(obj.value(QStringLiteral("msg")).toString(), QStringLiteral("GET /b\nforged"));
    installLogFormat(LogFormat::Text);
}

void TestLogging::preformattedLineOffWithItsCategory()
{
    installLogFormat(LogFormat::Text);
    installLogLevel(LogLevel::Warning);
    const QByteArray quiet = captureStderr([] { logInfoLine(lcProxyHttp(), "not wanted"); });
    installLogLevel(LogLevel::Info);
    QVERIFY2(quiet.isEmpty(), quiet.constData());
    const QByteArray loud = captureStderr([] { logInfoLine(lcProxyHttp(), "wanted"); });
    QVERIFY2(loud.endsWith(": wanted\n"), loud.constData());
}

void TestLogging::logSafeReplacesControlCharacters()
{
    QByteArray line = "GET ";
    appendLogSafe(line, QByteArray("/a\r\n2026 info fake\x1b[2J\x7f", 23));
    QCOMPARE(line, QByteArray("GET /a??2026 info fake?[2J?"));
    QCOMPARE(logSafe(QByteArray(300, 'p')).size(), 200);
}

void TestLogging::batchedUntilTheLoopWaits()
{
    installLogFormat(LogFormat::Text);
    BatchedOutput::standardError().enableBatching();
    QTemporaryFile file;
    QVERIFY(file.open());
    std::fflush(stderr);
    const int saved = dup(2);
    dup2(file.handle(), 2);
    auto written = [&file] {
        file.seek(0);
        return file.readAll();
    };

    qCInfo(lcProxy) << "first";
    qCInfo(lcProxy) << "second";
    const QByteArray beforeLoop = written();
    {
        // A real loop that waits (QTest::qWait never blocks): the batch goes out before it sleeps.
        QEventLoop loop;
        QTimer::singleShot(20, &loop, &QEventLoop::quit);
        loop.exec();
    }
    const QByteArray afterLoop = written();
    qCInfo(lcProxy) << "third";
    qCWarning(lcProxy) << "urgent"; // written at once, after what is pending
    const QByteArray afterWarning = written();

    std::fflush(stderr);
    dup2(saved, 2);
    close(saved);
    QVERIFY2(beforeLoop.isEmpty(), beforeLoop.constData());
    QCOMPARE(afterLoop.count('\n'), 2);
    QVERIFY(afterLoop.indexOf("first") < afterLoop.indexOf("second"));
    QCOMPARE(afterWarning.count('\n'), 4);
    QVERIFY(afterWarning.indexOf("third") < afterWarning.indexOf("urgent"));
}

void TestLogging::cleanupTestCase()
{
    qInstallMessageHandler(nullptr);
}

QTEST_GUILESS_MAIN(TestLogging)
#include "TestLogging.moc"
