// What one visitor, or many sockets, may cost the proxy: answers held for visitors that do not read,
// pipelined requests, and the one count of every socket behind --max-connections (including TLS
// handshakes). The proxy runs in-process; visitors are raw sockets.
#include "FakeTunnelClient.h"
#include "InProcessProxy.h"
#include "RawVisitor.h"
#include "StreamedAnswers.h"
#include "crypto/Label.h"

#include <QJsonDocument>
#include <QJsonObject>
#include <QProcess>
#include <QSslSocket>
#include <QStandardPaths>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <memory>
#include <optional>

using namespace keyhole;
using proxy::ProxyConfig;
using proxy::ProxyServer;

class TestVisitorLimits : public QObject
{
    Q_OBJECT

private:
    InProcessProxy m_server; // the fixture: its helpers are used under their own names below

    static ProxyConfig baseConfig()
    {
        ProxyConfig config = InProcessProxy::baseConfig();
        config.rateLimitPerSec = 1e6;
        config.rateBurst = 1e6;
        return config;
    }
    bool startServer(const ProxyConfig &config) { return m_server.start(config); }
    std::unique_ptr<FakeTunnelClient> onlineClient() { return m_server.onlineClient(); }
    QByteArray hostFor(const FakeTunnelClient &client) const { return m_server.hostFor(client); }

    // /healthz on a connection of its own (which counts as one socket and one connection).
    std::optional<QJsonObject> health() const
    {
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", "localhost", "/healthz"));
        if (!visitor.readResponse(3000) || visitor.head.status != 200)
            return std::nullopt;
        return QJsonDocument::fromJson(visitor.body).object();
    }

    qint64 healthValue(const char *key) const
    {
        const auto report = health();
        return report ? report->value(QLatin1String(key)).toInteger(-1) : -1;
    }

    // Answers every request with `size` bytes: inline when that is allowed, else streamed.
    static void bigAnswers(FakeTunnelClient *client, qsizetype size)
    {
        if (size > protocol::kInlineBodyBytes) {
            new StreamedAnswers(client, size);
            return;
        }
        client->answerer = [client, size](const protocol::HttpRequest &request) {
            protocol::HttpResponse response;
            response.id = request.id;
            response.status = 200;
            response.body = QByteArray(size, 'a');
            client->send(response);
        };
    }

private Q_SLOTS:
    void cleanup() { m_server.stop(); }

    void testVisitorThatStopsReadingIsCut()
    {
        ProxyConfig config = baseConfig();
        config.sendTimeoutMs = 1000;
        QVERIFY(startServer(config));
        auto client = onlineClient();
        QVERIFY(client);
        // More than the kernel's socket buffers on both ends take, towards a visitor that reads nothing.
        bigAnswers(client.get(), 24 << 20);
        RawVisitor visitor(m_server->port());
        visitor.socket.setReadBufferSize(4096);
        visitor.write(rawRequest("GET", hostFor(*client), "/big"));
        QTRY_VERIFY_WITH_TIMEOUT(!client->receivedOf<protocol::HttpRequest>().isEmpty(), 5000);
        // The kernel's socket buffers on loopback take megabytes first: on a loaded machine filling
        // them can outlast QTRY's default 5 s.
        // qWaitFor, not QTRY: QTRY evaluates its expression again after it held, and a streamed answer's
        // unsent bytes come and go while the kernel's buffers grow.
        QVERIFY(QTest::qWaitFor([&] { return healthValue("unsentBytes") > 0; }, 30000));
        // Cut after the send timeout (the idle timeout is a minute), and its answer freed.
        QTRY_COMPARE_WITH_TIMEOUT(healthValue("connections"), 1, 6000); // the health check's own
        QCOMPARE(healthValue("unsentBytes"), 0);
        QCOMPARE(healthValue("sockets"), 2); // the health check's and the tunnel client's
    }

    void testSlowReaderIsNotCut()
    {
        ProxyConfig config = baseConfig();
        config.sendTimeoutMs = 2000;
        QVERIFY(startServer(config));
        auto client = onlineClient();
        QVERIFY(client);
        bigAnswers(client.get(), 24 << 20);
        RawVisitor visitor(m_server->port());
        // The kernel wakes the proxy to write only once a third of its send buffer (megabytes) has
        // drained, so "slow" here is still a few MB/s.
        visitor.socket.setReadBufferSize(128 * 1024);
        visitor.write(rawRequest("GET", hostFor(*client), "/big"));
        // Taking a little at a time, for longer than the send timeout, keeps the connection.
        QByteArray received;
        QElapsedTimer clock;
        clock.start();
        while (clock.elapsed() < 4500) {
            QTest::qWait(50);
            received += visitor.socket.readAll();
        }
        QVERIFY2(received.size() < 24 << 20, "the answer came faster than the test meant to read it");
        QCOMPARE(visitor.socket.state(), QAbstractSocket::ConnectedState);
        visitor.socket.setReadBufferSize(0);
        QTRY_VERIFY_WITH_TIMEOUT((received += visitor.socket.readAll()).size() > 24 << 20, 20000);
    }

    void testPipelinedAnswersAreHeldOneAtATime()
    {
        constexpr int kRequests = 200;
        constexpr qsizetype kAnswer = 300 * 1000;
        QVERIFY(startServer(baseConfig()));
        auto client = onlineClient();
        QVERIFY(client);
        bigAnswers(client.get(), kAnswer);
        RawVisitor visitor(m_server->port());
        visitor.socket.setReadBufferSize(4096);
        QByteArray pipeline;
        for (int i = 0; i < kRequests; ++i)
            pipeline += rawRequest("GET", hostFor(*client), "/" + QByteArray::number(i));
        visitor.write(pipeline);
        // The kernel's buffers take a few answers; then the proxy holds one and reads no further.
        // The kernel's socket buffers on loopback take megabytes first, a dozen answers or more, each a
        // round trip through the tunnel: on a loaded machine that outlasts QTRY's default 5 s.
        // qWaitFor, not QTRY: QTRY evaluates its expression again after it held, and a streamed answer's
        // unsent bytes come and go while the kernel's buffers grow.
        QVERIFY(QTest::qWaitFor([&] { return healthValue("unsentBytes") > 0; }, 30000));
        qsizetype answered = -1;
        while (answered != client->receivedOf<protocol::HttpRequest>().size()) {
            answered = client->receivedOf<protocol::HttpRequest>().size();
            QTest::qWait(300); // no further request may come while the visitor reads nothing
        }
        QVERIFY2(answered < kRequests, "every pipelined request was read while the visitor read nothing");
        const qint64 unsent = healthValue("unsentBytes");
        QVERIFY2(unsent > 0 && unsent <= kAnswer + 1024, qPrintable(QString::number(unsent)));
        QCOMPARE(healthValue("pending"), 0);

        // Once the visitor reads, every answer comes, in order.
        visitor.socket.setReadBufferSize(0);
        for (int i = 0; i < kRequests; ++i) {
            QVERIFY2(visitor.readResponse(10000), qPrintable(QString::number(i)));
            QCOMPARE(visitor.body.size(), kAnswer);
        }
        QCOMPARE(client->receivedOf<protocol::HttpRequest>().size(), kRequests);
        QCOMPARE(client->receivedOf<protocol::HttpRequest>().last().path, QByteArray("/199"));
    }

    void testEverySocketCountsAgainstTheLimit()
    {
        ProxyConfig config = baseConfig();
        config.maxConnections = 3;
        QVERIFY(startServer(config));
        auto client = onlineClient(); // 1: the control channel
        QVERIFY(client);
        QObject::connect(client.get(), &FakeTunnelClient::messageReceived, client.get(), [&client] {
            if (const auto *upgrade = std::get_if<protocol::WsRequest>(&client->received.last()))
                client->send(protocol::WsResponse{upgrade->id, true, {}, 0, {}, {}});
        });
        QWebSocket webSocket; // 2: a visitor's WebSocket
        webSocket.open(QNetworkRequest(QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/request/%2/")
                                                .arg(m_server->port())
                                                .arg(crypto::labelForKey(client->key())))));
        QTRY_COMPARE(webSocket.state(), QAbstractSocket::ConnectedState);
        RawVisitor idle(m_server->port()); // 3: a visitor connection
        // The budget is spent: a fourth socket, even for /healthz, is closed at once.
        QVERIFY(!health());
        RawVisitor refused(m_server->port());
        QTRY_COMPARE(refused.socket.state(), QAbstractSocket::UnconnectedState);
        QCOMPARE(idle.socket.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(webSocket.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(client->socket().state(), QAbstractSocket::ConnectedState);

        // A closed WebSocket gives its slot back, and so does a control channel.
        webSocket.close();
        QTRY_COMPARE(healthValue("sockets"), 3);
        QCOMPARE(idle.socket.state(), QAbstractSocket::ConnectedState); // its slot is not the one freed
        client->socket().close();
        QTRY_COMPARE(healthValue("sockets"), 2);
    }

    void testTlsHandshakesCountAndTimeOut()
    {
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        if (openssl.isEmpty())
            QSKIP("the openssl command is not installed (it makes the test certificate)");
        QTemporaryDir dir;
        const QString cert = dir.filePath(QStringLiteral("cert.pem"));
        const QString key = dir.filePath(QStringLiteral("key.pem"));
        QProcess gen;
        gen.start(openssl,
                  {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                   "-out", cert, "-days", "2", "-subj", "/CN=localhost"});
        QVERIFY(gen.waitForFinished(30000) && gen.exitCode() == 0);

        ProxyConfig config = baseConfig();
        config.tlsCertFile = cert;
        config.tlsKeyFile = key;
        config.maxConnections = 2;
        // The clock starts before the two slow peers connect, so a refusal that waited for their head
        // timeout could not come before kHeadMs: "< kHeadMs" tells the two apart however slow the machine.
        constexpr int kHeadMs = 3000;
        constexpr int kCutMarginMs = 3000; // a loaded machine's timer and scheduling delay, generously
        config.headTimeoutMs = kHeadMs;
        QVERIFY(startServer(config));
        QElapsedTimer clock;
        clock.start();
        // Two peers that connect and never start their handshakes hold both slots...
        RawVisitor first(m_server->port());
        RawVisitor second(m_server->port());
        QCOMPARE(first.socket.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(second.socket.state(), QAbstractSocket::ConnectedState);
        // ...so a third is refused at once, not after a handshake timeout...
        RawVisitor third(m_server->port());
        QTRY_COMPARE_WITH_TIMEOUT(third.socket.state(), QAbstractSocket::UnconnectedState, kHeadMs);
        QVERIFY2(
            clock.elapsed() < kHeadMs,
            qPrintable(QStringLiteral("refused after %1 ms: only once the handshakes timed out").arg(clock.elapsed())));
        QCOMPARE(first.socket.state(), QAbstractSocket::ConnectedState);
        // ...and the two are cut after the head timeout.
        QTRY_COMPARE_WITH_TIMEOUT(first.socket.state(), QAbstractSocket::UnconnectedState, kHeadMs + kCutMarginMs);
        QTRY_COMPARE_WITH_TIMEOUT(second.socket.state(), QAbstractSocket::UnconnectedState, kCutMarginMs);
        QVERIFY2(clock.elapsed() < kHeadMs + kCutMarginMs, qPrintable(QString::number(clock.elapsed())));

        // Their slots are free again: a real TLS visitor gets its answer.
        QSslSocket visitor;
        visitor.setPeerVerifyMode(QSslSocket::VerifyNone);
        visitor.connectToHostEncrypted(QStringLiteral("localhost"), m_server->port());
        QTRY_VERIFY(visitor.isEncrypted());
        visitor.write(rawRequest("GET", "localhost", "/healthz"));
        QByteArray answer;
        QTRY_VERIFY((answer += visitor.readAll()).contains("\"sockets\":1"));
        QVERIFY(answer.startsWith("HTTP/1.1 200"));
    }
};

QTEST_GUILESS_MAIN(TestVisitorLimits)
#include "TestVisitorLimits.moc"
