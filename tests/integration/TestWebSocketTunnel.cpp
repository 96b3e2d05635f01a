// WebSockets end to end: a visitor that is not ours (tests/integration/ws_client.py, python3-websockets)
// -> keyhole-proxy -> keyhole-cli -> tests/integration/ws_service.py, all on 127.0.0.1.
// One tunnel serves the cases that leave it intact; the ones that break it or need other limits start their own.

#include "TestSupport.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QMultiHash>
#include <QTest>

#include <memory>

using namespace keyhole::testing;

namespace {
// The proxy's default --max-body, which --max-ws-message defaults to.
constexpr int MessageLimit = 512000;

QString compact(const QJsonObject &doc)
{
    return QString::fromUtf8(QJsonDocument(doc).toJson(QJsonDocument::Compact).left(1500));
}
} // namespace

class TestWebSocketTunnel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void testEcho_data();
    void testEcho();
    void testOrderUnderBurst_data();
    void testOrderUnderBurst();
    void testMessageWithHandshake();
    void testSubprotocol_data();
    void testSubprotocol();
    void testRefusedUpgrade_data();
    void testRefusedUpgrade();
    void testHeadersForwarded();
    void testVisitorCloseCode();
    void testServiceCloseCode();
    void testConcurrentSockets();
    void testOversizeMessage_data();
    void testOversizeMessage();
    void testTooManyWebSockets();
    void testMessagesAreNotRateLimited();
    void testClientKilledMidStream();

private:
    bool startTunnel(TunnelFixture *fx, const QStringList &proxyArgs);
    // Starts ws_client.py for ws://<tunnel host><path> with `modeArgs` (a mode and its options).
    std::unique_ptr<ManagedProcess> launchVisitor(TunnelFixture *fx, const QString &path, const QStringList &modeArgs);
    // Runs ws_client.py to the end and returns its JSON result ({"error": ...} if it produced none).
    QJsonObject visit(const QString &path, const QStringList &modeArgs, int timeoutMs = 30000,
                      TunnelFixture *fx = nullptr);
    static QJsonObject resultOf(ManagedProcess *visitor);

    QString m_python;
    std::unique_ptr<TunnelFixture> m_fx;
};

bool TestWebSocketTunnel::startTunnel(TunnelFixture *fx, const QStringList &proxyArgs)
{
    return fx->startService(m_python, {wsServiceScript()}) && fx->startProxy(proxyArgs) && fx->startClient();
}

void TestWebSocketTunnel::initTestCase()
{
    QString error;
    m_python = wsPythonProgram(&error);
    QVERIFY2(!m_python.isEmpty(), qPrintable(error));
    m_fx = std::make_unique<TunnelFixture>();
    // Bursts of 1000 messages each way are about ordering, not the rate limiter.
    QVERIFY2(startTunnel(m_fx.get(),
                         {QStringLiteral("--rate-limit"), QStringLiteral("1000000"), QStringLiteral("--rate-burst"),
                          QStringLiteral("1000000")}),
             qPrintable(m_fx->errorString()));
}

void TestWebSocketTunnel::cleanupTestCase()
{
    m_fx.reset();
}

void TestWebSocketTunnel::cleanup()
{
    if (QTest::currentTestFailed() && m_fx)
        m_fx->dumpOutput();
}

std::unique_ptr<ManagedProcess> TestWebSocketTunnel::launchVisitor(TunnelFixture *fx, const QString &path,
                                                                   const QStringList &modeArgs)
{
    auto visitor = std::make_unique<ManagedProcess>(QStringLiteral("ws-client"));
    const QStringList args = QStringList{wsClientScript(), QStringLiteral("--url"),
                                         QStringLiteral("ws://") + fx->host() + path, QStringLiteral("--connect"),
                                         QStringLiteral("127.0.0.1:%1").arg(fx->proxyPort())}
        + modeArgs;
    if (!visitor->start(m_python, args))
        qWarning().noquote() << visitor->errorString();
    return visitor;
}

QJsonObject TestWebSocketTunnel::resultOf(ManagedProcess *visitor)
{
    const QList<QByteArray> lines = visitor->stdoutLines();
    QJsonParseError parseError;
    const QJsonDocument doc = QJsonDocument::fromJson(lines.isEmpty() ? QByteArray() : lines.last(), &parseError);
    if (!doc.isObject()) {
        return {{QStringLiteral("error"),
                 QStringLiteral("ws_client.py gave no result (%1); stderr: %2")
                     .arg(visitor->errorString(), QString::fromUtf8(visitor->stderrData().right(1500)))}};
    }
    return doc.object();
}

QJsonObject TestWebSocketTunnel::visit(const QString &path, const QStringList &modeArgs, int timeoutMs,
                                       TunnelFixture *fx)
{
    std::unique_ptr<ManagedProcess> visitor = launchVisitor(fx ? fx : m_fx.get(), path, modeArgs);
    visitor->waitForExit(timeoutMs);
    return resultOf(visitor.get());
}

void TestWebSocketTunnel::testEcho_data()
{
    QTest::addColumn<QString>("kind");
    QTest::addColumn<QString>("sizes");
    // Empty, the frame-length encoding boundaries (125/126, 65535/65536), odd sizes, and the limit itself.
    const QString sizes = QStringLiteral("0,1,2,125,126,127,1000,65535,65536,65537,131071,300001,%1").arg(MessageLimit);
    QTest::newRow("text") << QStringLiteral("text") << sizes;
    QTest::newRow("binary") << QStringLiteral("binary") << sizes;
}

void TestWebSocketTunnel::testEcho()
{
    QFETCH(QString, kind);
    QFETCH(QString, sizes);
    const QJsonObject r = visit(QStringLiteral("/echo"),
                                {QStringLiteral("echo"), QStringLiteral("--kind"), kind, QStringLiteral("--sizes"),
                                 sizes, QStringLiteral("--seed"),
                                 QString::number(QDateTime::currentMSecsSinceEpoch())});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    const QJsonArray results = r.value(QStringLiteral("results")).toArray();
    QCOMPARE(results.size(), sizes.split(QLatin1Char(',')).size());
    for (const QJsonValue &v : results) {
        const QJsonObject one = v.toObject();
        QVERIFY2(one.value(QStringLiteral("ok")).toBool(),
                 qPrintable(QStringLiteral("%1 message of %2 bytes came back as %3 bytes (same type: %4)")
                                .arg(kind)
                                .arg(one.value(QStringLiteral("size")).toInt())
                                .arg(one.value(QStringLiteral("got_len")).toInt())
                                .arg(one.value(QStringLiteral("same_type")).toBool())));
    }
}

void TestWebSocketTunnel::testOrderUnderBurst_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("mode");
    QTest::newRow("visitor sends 1000 at once, echoes in order") << QStringLiteral("/echo") << QStringLiteral("burst");
    QTest::newRow("service sends 1000 at once") << QStringLiteral("/count") << QStringLiteral("count");
}

void TestWebSocketTunnel::testOrderUnderBurst()
{
    QFETCH(QString, path);
    QFETCH(QString, mode);
    const QJsonObject r = visit(path, {mode, QStringLiteral("--count"), QStringLiteral("1000")});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QCOMPARE(r.value(QStringLiteral("received")).toInt(), 1000);
    QVERIFY2(r.value(QStringLiteral("ok")).toBool(), qPrintable(compact(r)));
}

void TestWebSocketTunnel::testMessageWithHandshake()
{
    // The visitor's first frame travels in the same TCP write as its upgrade request, and the service
    // greets right after its own handshake: neither message may be lost while the two hops open.
    const QJsonObject r = visit(QStringLiteral("/greet"),
                                {QStringLiteral("early"), QStringLiteral("--expect"), QStringLiteral("2")});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QCOMPARE(r.value(QStringLiteral("status")).toInt(), 101);
    QVERIFY2(r.value(QStringLiteral("accept_ok")).toBool(), "Sec-WebSocket-Accept does not match the visitor's key");
    QCOMPARE(r.value(QStringLiteral("messages")).toArray(),
             (QJsonArray{QStringLiteral("hello"), QStringLiteral("early")}));
}

void TestWebSocketTunnel::testSubprotocol_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QString>("offer");
    QTest::addColumn<QJsonValue>("expected"); // null: no subprotocol
    // The service prefers chat.v2 whatever the visitor's order; the visitor must get the service's choice.
    QTest::newRow("service's choice") << QStringLiteral("/proto") << QStringLiteral("chat.v1,chat.v2")
                                      << QJsonValue(QStringLiteral("chat.v2"));
    QTest::newRow("only one in common") << QStringLiteral("/proto") << QStringLiteral("other,chat.v1")
                                        << QJsonValue(QStringLiteral("chat.v1"));
    QTest::newRow("none in common") << QStringLiteral("/proto") << QStringLiteral("other") << QJsonValue();
}

void TestWebSocketTunnel::testSubprotocol()
{
    QFETCH(QString, path);
    QFETCH(QString, offer);
    QFETCH(QJsonValue, expected);
    const QJsonObject r = visit(path, {QStringLiteral("proto"), QStringLiteral("--offer"), offer});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QCOMPARE(r.value(QStringLiteral("subprotocol")), expected);
    // What the service itself chose ("-" for none).
    QCOMPARE(r.value(QStringLiteral("first")).toString(),
             expected.isNull() ? QStringLiteral("-") : expected.toString());
}

void TestWebSocketTunnel::testRefusedUpgrade_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<int>("status");
    QTest::newRow("403") << QStringLiteral("/refuse") << 403;
    QTest::newRow("404") << QStringLiteral("/no-such-socket") << 404;
}

void TestWebSocketTunnel::testRefusedUpgrade()
{
    QFETCH(QString, path);
    QFETCH(int, status);
    const QJsonObject r = visit(path, {QStringLiteral("status")});
    QCOMPARE(r.value(QStringLiteral("error")).toString(), QStringLiteral("InvalidStatusCode"));
    QCOMPARE(r.value(QStringLiteral("status")).toInt(), status);
    QVERIFY2(
        m_fx->service()->waitForLine(QRegularExpression(QStringLiteral("^refused ") + path + u'$'), 5000).hasMatch(),
        "the upgrade did not reach the service");
}

void TestWebSocketTunnel::testHeadersForwarded()
{
    const QJsonObject r = visit(QStringLiteral("/headers?x=1"),
                                {QStringLiteral("headers"), QStringLiteral("--header"),
                                 QStringLiteral("Origin: http://origin.example"), QStringLiteral("--header"),
                                 QStringLiteral("Cookie: session=abc"), QStringLiteral("--header"),
                                 QStringLiteral("Authorization: Bearer t0k3n")});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QMultiHash<QString, QString> seen;
    for (const QJsonValue &pair : r.value(QStringLiteral("headers")).toArray())
        seen.insert(pair[0].toString().toLower(), pair[1].toString());
    const QString all = compact(r);
    QCOMPARE(seen.value(QStringLiteral("origin")), QStringLiteral("http://origin.example"));
    QCOMPARE(seen.value(QStringLiteral("cookie")), QStringLiteral("session=abc"));
    QCOMPARE(seen.value(QStringLiteral("authorization")), QStringLiteral("Bearer t0k3n"));
    QVERIFY2(seen.value(QStringLiteral("x-forwarded-for")).contains(QStringLiteral("127.0.0.1")), qPrintable(all));
    // The visitor offered permessage-deflate to the proxy; that is not the local hop's business.
    QVERIFY2(!seen.value(QStringLiteral("sec-websocket-extensions")).contains(QStringLiteral("permessage-deflate")),
             qPrintable(all));
    QCOMPARE(seen.values(QStringLiteral("upgrade")).size(), 1);
    // The visitor's Host always reaches the service in X-Forwarded-Host.
    QCOMPARE(seen.value(QStringLiteral("x-forwarded-host")), m_fx->host());
    // Without --host-header the service sees the visitor's Host, as for plain HTTP.
    QVERIFY2(seen.values(QStringLiteral("host")) == QStringList{m_fx->host()},
             qPrintable(QStringLiteral("the service saw Host %1 instead of the visitor's %2")
                            .arg(seen.values(QStringLiteral("host")).join(QStringLiteral(", ")), m_fx->host())));
}

void TestWebSocketTunnel::testVisitorCloseCode()
{
    const QString path = QStringLiteral("/echo?case=visitor-close");
    const QJsonObject r = visit(path,
                                {QStringLiteral("close"), QStringLiteral("--code"), QStringLiteral("4000"),
                                 QStringLiteral("--reason"), QStringLiteral("bye")});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QCOMPARE(r.value(QStringLiteral("echoed")).toString(), QStringLiteral("before close"));
    const QRegularExpressionMatch m = m_fx->service()->waitForLine(
        QRegularExpression(QStringLiteral("^ws-closed ") + QRegularExpression::escape(path) + QStringLiteral(" (.*)$")),
        5000);
    QVERIFY2(m.hasMatch(), qPrintable(m_fx->service()->errorString()));
    QCOMPARE(m.captured(1), QStringLiteral("4000 bye"));
}

void TestWebSocketTunnel::testServiceCloseCode()
{
    const QJsonObject r = visit(QStringLiteral("/close/4001"),
                                {QStringLiteral("wait-close"), QStringLiteral("--send"), QStringLiteral("close now")});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QCOMPARE(r.value(QStringLiteral("close_code")).toInt(), 4001);
    QCOMPARE(r.value(QStringLiteral("close_reason")).toString(), QStringLiteral("bye 4001"));
    QVERIFY2(r.value(QStringLiteral("elapsed_ms")).toInt() < 5000, qPrintable(compact(r)));
}

void TestWebSocketTunnel::testConcurrentSockets()
{
    const QJsonObject r = visit(QStringLiteral("/echo"),
                                {QStringLiteral("concurrent"), QStringLiteral("--n"), QStringLiteral("100"),
                                 QStringLiteral("--messages"), QStringLiteral("4")});
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QVERIFY2(r.value(QStringLiteral("ok")).toBool(), qPrintable(compact(r)));
}

void TestWebSocketTunnel::testOversizeMessage_data()
{
    QTest::addColumn<QString>("path");
    QTest::addColumn<QStringList>("modeArgs");
    QTest::newRow("visitor sends limit+1")
        << QStringLiteral("/echo?case=oversize")
        << QStringList{QStringLiteral("wait-close"), QStringLiteral("--size"), QString::number(MessageLimit + 1)};
    QTest::newRow("service sends limit+1")
        << QStringLiteral("/big/%1").arg(MessageLimit + 1)
        << QStringList{QStringLiteral("wait-close"), QStringLiteral("--send"), QStringLiteral("go")};
}

void TestWebSocketTunnel::testOversizeMessage()
{
    QFETCH(QString, path);
    QFETCH(QStringList, modeArgs);
    const QJsonObject r = visit(path, modeArgs);
    QVERIFY2(!r.contains(QStringLiteral("error")), qPrintable(compact(r)));
    QCOMPARE(r.value(QStringLiteral("close_code")).toInt(), 1009);
    QCOMPARE(r.value(QStringLiteral("received_sizes")).toArray(), QJsonArray());
    // The other hop is closed with 1009 too, and the tunnel itself survives.
    const QRegularExpression closed(QStringLiteral("^ws-closed ") + QRegularExpression::escape(path)
                                    + QStringLiteral(" (\\d+)"));
    const QRegularExpressionMatch m = m_fx->service()->waitForLine(closed, 5000);
    QVERIFY2(m.hasMatch(), qPrintable(m_fx->service()->errorString()));
    QCOMPARE(m.captured(1).toInt(), 1009);
    const QJsonObject after = visit(QStringLiteral("/echo"),
                                    {QStringLiteral("echo"), QStringLiteral("--sizes"), QStringLiteral("10")});
    QVERIFY2(after.value(QStringLiteral("ok")).toBool(), qPrintable(compact(after)));
}

void TestWebSocketTunnel::testTooManyWebSockets()
{
    TunnelFixture fx;
    QVERIFY2(startTunnel(&fx, {QStringLiteral("--max-websockets"), QStringLiteral("2")}), qPrintable(fx.errorString()));
    std::unique_ptr<ManagedProcess> first = launchVisitor(&fx, QStringLiteral("/echo"), {QStringLiteral("stream")});
    std::unique_ptr<ManagedProcess> second = launchVisitor(&fx, QStringLiteral("/echo"), {QStringLiteral("stream")});
    for (ManagedProcess *open : {first.get(), second.get()}) {
        QVERIFY2(open->waitForLine(QRegularExpression(QStringLiteral("^open$")), 10000).hasMatch(),
                 qPrintable(compact(resultOf(open))));
    }
    const QJsonObject third = visit(QStringLiteral("/echo"), {QStringLiteral("status")}, 15000, &fx);
    QCOMPARE(third.value(QStringLiteral("status")).toInt(), 503);
    if (QTest::currentTestFailed())
        fx.dumpOutput();
}

void TestWebSocketTunnel::testMessagesAreNotRateLimited()
{
    TunnelFixture fx;
    QVERIFY2(startTunnel(&fx,
                         {QStringLiteral("--rate-limit"), QStringLiteral("5"), QStringLiteral("--rate-burst"),
                          QStringLiteral("20")}),
             qPrintable(fx.errorString()));
    // The request rate counts the WebSocket once, when it opens; its messages (a web terminal sends
    // thousands a second) are not requests: all 200 come back and the socket stays open.
    const QJsonObject r = visit(QStringLiteral("/echo"),
                                {QStringLiteral("burst"), QStringLiteral("--count"), QStringLiteral("200")}, 30000,
                                &fx);
    QVERIFY2(r.value(QStringLiteral("ok")).toBool(), qPrintable(compact(r)));
    QVERIFY2(r.value(QStringLiteral("received")).toInt() == 200, qPrintable(compact(r)));
    QVERIFY2(!r.contains(QStringLiteral("close_code")) || r.value(QStringLiteral("close_code")).toInt() != 1013,
             qPrintable(compact(r)));
    if (QTest::currentTestFailed())
        fx.dumpOutput();
}

void TestWebSocketTunnel::testClientKilledMidStream()
{
    // Last: it takes the shared tunnel down.
    std::unique_ptr<ManagedProcess> visitor = launchVisitor(m_fx.get(), QStringLiteral("/echo?case=killed"),
                                                            {QStringLiteral("stream")});
    QVERIFY2(visitor->waitForLine(QRegularExpression(QStringLiteral("^open$")), 10000).hasMatch(),
             qPrintable(compact(resultOf(visitor.get()))));
    QElapsedTimer sinceKill;
    sinceKill.start();
    m_fx->client()->kill();
    QVERIFY2(visitor->waitForExit(15000), "the visitor's WebSocket stayed open after keyhole-cli died");
    const qint64 ms = sinceKill.elapsed();
    const QJsonObject r = resultOf(visitor.get());
    const int code = r.value(QStringLiteral("close_code")).toInt();
    QVERIFY2(code == 1001 || code == 1011, qPrintable(compact(r)));
    QVERIFY2(ms < 5000, qPrintable(QStringLiteral("closed %1 ms after the client died").arg(ms)));
}

QTEST_GUILESS_MAIN(TestWebSocketTunnel)
#include "TestWebSocketTunnel.moc"
