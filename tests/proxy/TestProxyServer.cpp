// The proxy in-process against a scripted tunnel client and raw visitors: registration, routing,
// and every limit the proxy enforces on a tunnel.
#include "FakeTunnelClient.h"
#include "InProcessProxy.h"
#include "RawVisitor.h"
#include "crypto/Jws.h"
#include "crypto/Label.h"
#include "crypto/RegistrationToken.h"
#include "http/HeaderRules.h"
#include "protocol/Codec.h"
#include "util/Clock.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>
#include <QSignalSpy>
#include <QTemporaryFile>
#include <QRegularExpression>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketHandshakeOptions>

#include <memory>

using namespace keyhole;
using proxy::ProxyConfig;
using proxy::ProxyServer;

namespace {
// The header lines of a visitor's WebSocket upgrade (RFC 6455's sample key).
const QByteArray kUpgradeHeaders = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
} // namespace

class TestProxyServer : public QObject
{
    Q_OBJECT

private:
    util::ManualClock m_clock; // declared first: outlives the server that reads it
    InProcessProxy m_server;   // the fixture: its helpers are used under their own names below

    static ProxyConfig baseConfig() { return InProcessProxy::baseConfig(); }
    void startServer(const ProxyConfig &config, const util::Clock *clock = nullptr)
    {
        QVERIFY(m_server.start(config, clock));
    }
    std::unique_ptr<FakeTunnelClient> onlineClient(const QString &name = {}) { return m_server.onlineClient(name); }
    std::unique_ptr<FakeTunnelClient> startWithClient(const ProxyConfig &config)
    {
        return m_server.startWithClient(config);
    }
    QByteArray hostFor(const FakeTunnelClient &client, const QString &name = {}) const
    {
        return m_server.hostFor(client, name);
    }
    QUrl wsUrl(const FakeTunnelClient &client, const char *rest) const { return m_server.wsUrl(client.key(), rest); }

    bool openVisitor(QWebSocket &visitor, const FakeTunnelClient &client) const
    {
        visitor.open(QNetworkRequest(wsUrl(client, "/")));
        return QTest::qWaitFor([&] { return visitor.state() == QAbstractSocket::ConnectedState; }, 5000);
    }

    static void acceptWebSockets(FakeTunnelClient *client) { client->acceptWebSockets(); }

    static void echoAnswerer(FakeTunnelClient *client)
    {
        client->answerer = [client](const protocol::HttpRequest &request) {
            protocol::HttpResponse response;
            response.id = request.id;
            response.status = 200;
            response.headers = {{"Set-Cookie", "a=1"},
                                {"Set-Cookie", "b=2"},
                                {"X-Method", request.method},
                                {"X-Path", request.path},
                                {"X-Query", request.query},
                                {"X-Got-XFF", http::headerValue(request.headers, "X-Forwarded-For")},
                                {"X-Got-Host", http::headerValue(request.headers, "Host")},
                                {"Connection", "x-secret"},
                                {"X-Secret", "hop"}};
            response.body = request.body;
            client->send(response);
        };
    }

private Q_SLOTS:
    // A control-channel protocol error that a test did not provoke fails it; the one test that provokes
    // one says so with ignoreMessage.
    void init() { QTest::failOnWarning(QRegularExpression(QStringLiteral("sent a malformed frame"))); }
    void cleanup() { m_server.stop(); }

    void testRegistrationGivesTheKeysHostname()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        QVERIFY(!client->receivedOf<protocol::RegistrationResponse>().isEmpty());
        const auto response = client->receivedOf<protocol::RegistrationResponse>().first();
        QVERIFY2(response.accepted, qPrintable(response.reason));
        const QString label = crypto::labelForKey(client->key());
        QCOMPARE(response.label, label);
        QCOMPARE(response.hostname, label + QStringLiteral(".localhost"));
        QCOMPARE(response.publicUrl, QStringLiteral("http://%1.localhost:%2").arg(label).arg(m_server->port()));
        // The defaults of protocol 2: 100 MiB of request body, no response limit.
        QCOMPARE(response.maxRequestBodyBytes, qint64(100) * 1024 * 1024);
        QCOMPARE(response.maxResponseBodyBytes, qint64(0));
        QCOMPARE(m_server->tunnelCount(), 1);
    }

    void testNamedTunnel()
    {
        startServer(baseConfig());
        auto client = onlineClient(QStringLiteral("web"));
        QVERIFY(client);
        QVERIFY(!client->receivedOf<protocol::RegistrationResponse>().isEmpty());
        const auto response = client->receivedOf<protocol::RegistrationResponse>().first();
        QCOMPARE(response.label, crypto::labelForKey(client->key(), QStringLiteral("web")));
    }

    void testRequestRoundTrip()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        echoAnswerer(client.get());
        RawVisitor visitor(m_server->port());
        const QByteArray body("\x00\x01\xff binary", 10);
        visitor.write(rawRequest("PATCH", hostFor(*client), "/a%20b/c?x=1&y=%2F", body,
                                 "X-Forwarded-For: 6.6.6.6\r\nConnection: keep-alive, x-drop\r\nX-Drop: 1\r\n"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.body, body);
        QCOMPARE(visitor.header("X-Method"), QByteArray("PATCH"));
        QCOMPARE(visitor.header("X-Path"), QByteArray("/a%20b/c"));
        QCOMPARE(visitor.header("X-Query"), QByteArray("x=1&y=%2F"));
        QCOMPARE(visitor.header("X-Got-XFF"), QByteArray("127.0.0.1")); // the visitor's own value is dropped
        QCOMPARE(visitor.header("X-Got-Host"), hostFor(*client));
        QVERIFY(visitor.header("X-Secret").isNull()); // named in Connection: hop-by-hop
        QVERIFY(!visitor.header("X-Keyhole-Request-Id").isEmpty());
        QStringList cookies;
        for (const auto &h : visitor.head.headers)
            if (http::headerNameEquals(h.first, "Set-Cookie"))
                cookies << QString::fromLatin1(h.second);
        QCOMPARE(cookies, QStringList({"a=1", "b=2"}));
        QVERIFY(!client->receivedOf<protocol::HttpRequest>().isEmpty());
        const auto request = client->receivedOf<protocol::HttpRequest>().first();
        QVERIFY(!http::hasHeader(request.headers, "X-Drop"));
        QCOMPARE(request.remoteAddress, QStringLiteral("127.0.0.1"));

        // Keep-alive and pipelining: two requests in one write, answered in order on the same socket.
        visitor.write(rawRequest("POST", hostFor(*client), "/one", "1")
                      + rawRequest("POST", hostFor(*client), "/two", "22"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.body, QByteArray("1"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.body, QByteArray("22"));
    }

    void testPathRouting()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        echoAnswerer(client.get());
        RawVisitor visitor(m_server->port());
        const QByteArray label = crypto::labelForKey(client->key()).toLatin1();
        visitor.write(rawRequest("GET", "localhost", "/proxy/request/" + label + "/deep/path?q=1"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.header("X-Path"), QByteArray("/deep/path"));
        QCOMPARE(visitor.header("X-Query"), QByteArray("q=1"));
    }

    void testControlHandshakeIsAnsweredByTheProxy_data()
    {
        QTest::addColumn<QByteArray>("headers");
        QTest::addColumn<int>("status");
        const QByteArray key = "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";
        const QByteArray upgrade = "Upgrade: websocket\r\nConnection: Upgrade\r\n";
        QTest::newRow("valid") << upgrade + key + "Sec-WebSocket-Version: 13\r\n" << 101;
        QTest::newRow("version 8") << upgrade + key + "Sec-WebSocket-Version: 8\r\n" << 426;
        QTest::newRow("no key") << upgrade + "Sec-WebSocket-Version: 13\r\n" << 400;
        QTest::newRow("not websocket") << "Upgrade: h2c\r\nConnection: Upgrade\r\n" + key
                + "Sec-WebSocket-Version: 13\r\n"
                                       << 426;
    }

    void testControlHandshakeIsAnsweredByTheProxy()
    {
        QFETCH(QByteArray, headers);
        QFETCH(int, status);
        startServer(baseConfig());
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", "localhost", "/proxy/subscribe", {}, headers));
        QVERIFY(visitor.readResponse(10000, status == 101));
        QCOMPARE(visitor.head.status, status);
        if (status == 101) {
            QCOMPARE(visitor.header("Sec-WebSocket-Accept"), QByteArray("s3pPLMBiTxaQ9kYGzzhZRbK+xOo="));
            return;
        }
        QVERIFY(!visitor.body.isEmpty()); // says what was wrong
        if (status == 426)
            QCOMPARE(visitor.header("Sec-WebSocket-Version"), QByteArray("13"));
        QTRY_COMPARE(visitor.socket.state(), QAbstractSocket::UnconnectedState);
    }

    void testUnknownTunnelIs404NamingTheHost()
    {
        startServer(baseConfig());
        RawVisitor visitor(m_server->port());
        const QByteArray label = crypto::labelForKey(*crypto::KeyPair::generate()).toLatin1();
        visitor.write(rawRequest("GET", label + ".localhost", "/"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 404);
        QVERIFY(visitor.body.contains(label));
        QVERIFY(visitor.body.contains(visitor.header("X-Keyhole-Request-Id")));
    }

    void testHealthz()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", "127.0.0.1", "/healthz"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QVERIFY2(visitor.body.contains("\"tunnels\":1"), visitor.body.constData());
    }

    void testSentBytesCountEveryByteTheVisitorGets()
    {
        // Answers go to the kernel directly when they can, past the socket's bytesWritten(): the
        // counter must still see each byte once. Between two scrapes on one connection, exactly the
        // first scrape's answer and a tunnelled one were sent.
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        QTcpSocket socket;
        socket.connectToHost(QHostAddress::LocalHost, m_server->port());
        QVERIFY(socket.waitForConnected(5000));
        // The length of the first whole (Content-Length framed) answer in `bytes`, or -1.
        const auto answerLength = [](const QByteArray &bytes) -> qsizetype {
            const qsizetype end = bytes.indexOf("\r\n\r\n");
            static const QRegularExpression contentLength(QStringLiteral("(?i)\r\ncontent-length: *(\\d+)"));
            const auto m = contentLength.match(QString::fromLatin1(bytes.left(qMax<qsizetype>(end, 0))));
            const qsizetype total = end + 4 + m.captured(1).toLongLong();
            return end >= 0 && m.hasMatch() && bytes.size() >= total ? total : -1;
        };
        QByteArray wire;
        const auto readAnswer = [&] {
            QByteArray answer;
            if (QTest::qWaitFor([&] { return answerLength(wire += socket.readAll()) >= 0; }, 10000)) {
                answer = wire.left(answerLength(wire));
                wire.remove(0, answer.size());
            }
            return answer;
        };
        const auto sentBytes = [](const QByteArray &answer) {
            static const QRegularExpression sample(QStringLiteral("\nkeyhole_visitor_sent_bytes_total (\\S+)"));
            const auto m = sample.match(QString::fromLatin1(answer));
            return m.hasMatch() ? qint64(m.captured(1).toDouble()) : qint64(-1);
        };
        client->answerer = [client = client.get()](const protocol::HttpRequest &request) {
            protocol::HttpResponse response;
            response.id = request.id;
            response.status = 200;
            response.body = QByteArray(100 * 1024, 'x');
            client->send(response);
        };

        socket.write(rawRequest("GET", "localhost", "/metrics"));
        const QByteArray first = readAnswer();
        QVERIFY(!first.isEmpty());
        socket.write(rawRequest("GET", hostFor(*client), "/big"));
        const QByteArray tunnelled = readAnswer();
        QVERIFY(tunnelled.endsWith(QByteArray(100 * 1024, 'x')));
        socket.write(rawRequest("GET", "localhost", "/metrics"));
        const QByteArray second = readAnswer();
        QVERIFY(!second.isEmpty());
        QVERIFY(sentBytes(first) >= 0);
        QCOMPARE(sentBytes(second) - sentBytes(first), qint64(first.size() + tunnelled.size()));
    }

    void testUnansweredRequestTimesOutWith504()
    {
        ProxyConfig config = baseConfig();
        config.requestTimeoutMs = 300;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/never"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 504);
        // The late answer is dropped and the connection still serves the next request.
        echoAnswerer(client.get());
        QVERIFY(!client->receivedOf<protocol::HttpRequest>().isEmpty());
        client->answerer(client->receivedOf<protocol::HttpRequest>().first());
        visitor.write(rawRequest("POST", hostFor(*client), "/next", "x"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.body, QByteArray("x"));
    }

    void testRequestBodyLimit()
    {
        ProxyConfig config = baseConfig();
        config.maxRequestBodyBytes = 1000;
        auto client = startWithClient(config);
        QVERIFY(client);
        echoAnswerer(client.get());
        {
            RawVisitor visitor(m_server->port());
            visitor.write(rawRequest("POST", hostFor(*client), "/", QByteArray(1000, 'a')));
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 200);
        }
        {
            RawVisitor visitor(m_server->port());
            visitor.write(rawRequest("POST", hostFor(*client), "/", QByteArray(1001, 'a')));
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 413);
        }
        {
            RawVisitor visitor(m_server->port());
            QByteArray chunked = "POST / HTTP/1.1\r\nHost: " + hostFor(*client)
                + "\r\nTransfer-Encoding: chunked\r\n\r\n";
            for (int i = 0; i < 3; ++i)
                chunked += "1f4\r\n" + QByteArray(500, 'b') + "\r\n";
            visitor.write(chunked + "0\r\n\r\n");
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 413);
        }
        QCOMPARE(client->receivedOf<protocol::HttpRequest>().size(), 1); // nothing oversize reached the client
    }

    void testResponseBodyLimit()
    {
        ProxyConfig config = baseConfig();
        config.maxResponseBodyBytes = 1000;
        auto client = startWithClient(config);
        QVERIFY(client);
        client->answerer = [&client](const protocol::HttpRequest &request) {
            client->send(protocol::HttpResponse{request.id, 200, {}, QByteArray(1001, 'z')});
        };
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/big"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 502);
    }

    void testRateLimitGives429WithRetryAfter()
    {
        ProxyConfig config = baseConfig();
        config.rateLimitPerSec = 0.5;
        config.rateBurst = 2;
        auto client = startWithClient(config);
        QVERIFY(client);
        echoAnswerer(client.get());
        QList<int> statuses;
        QByteArray retryAfter;
        for (int i = 0; i < 3; ++i) {
            RawVisitor visitor(m_server->port());
            visitor.write(rawRequest("GET", hostFor(*client), "/"));
            QVERIFY(visitor.readResponse());
            statuses << visitor.head.status;
            retryAfter = visitor.header("Retry-After");
        }
        QCOMPARE(statuses, QList<int>({200, 200, 429}));
        QVERIFY(retryAfter.toInt() >= 1);
    }

    void testPendingLimitGives503()
    {
        ProxyConfig config = baseConfig();
        config.maxPendingPerTunnel = 2;
        auto client = startWithClient(config);
        QVERIFY(client);
        std::vector<std::unique_ptr<RawVisitor>> visitors;
        for (int i = 0; i < 3; ++i) {
            visitors.push_back(std::make_unique<RawVisitor>(m_server->port()));
            visitors.back()->write(rawRequest("GET", hostFor(*client), "/slow"));
        }
        QVERIFY(visitors[2]->readResponse());
        QCOMPARE(visitors[2]->head.status, 503);
        QTRY_COMPARE(client->receivedOf<protocol::HttpRequest>().size(), 2);
    }

    void testForgedAnswerForAnotherTunnelIsIgnored()
    {
        ProxyConfig config = baseConfig();
        config.requestTimeoutMs = 500;
        startServer(config);
        auto honest = onlineClient();
        auto forger = onlineClient();
        QVERIFY(honest && forger);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*honest), "/"));
        QVERIFY(QTest::qWaitFor([&] { return !honest->receivedOf<protocol::HttpRequest>().isEmpty(); }, 5000));
        const QByteArray id = honest->receivedOf<protocol::HttpRequest>().first().id;
        forger->send(protocol::HttpResponse{id, 200, {}, "forged"});
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 504);
    }

    void testLostTunnelFailsPendingWith502AtOnce()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/"));
        QVERIFY(QTest::qWaitFor([&] { return !client->receivedOf<protocol::HttpRequest>().isEmpty(); }, 5000));
        client->socket().abort();
        QElapsedTimer timer;
        timer.start();
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 502);
        QVERIFY(timer.elapsed() < 5000);
        QTRY_COMPARE(m_server->tunnelCount(), 0);
    }

    void testNewestRegistrationReplacesTheOlder()
    {
        startServer(baseConfig());
        auto key = crypto::KeyPair::generate();
        auto first = std::make_unique<FakeTunnelClient>(*crypto::KeyPair::fromPrivatePem(key->privatePem()),
                                                        m_server->publicUrl());
        first->connectAndRegister();
        QTRY_VERIFY(!first->receivedOf<protocol::RegistrationResponse>().isEmpty());
        auto second = std::make_unique<FakeTunnelClient>(std::move(*key), m_server->publicUrl());
        second->connectAndRegister();
        QTRY_VERIFY(!second->receivedOf<protocol::RegistrationResponse>().isEmpty());
        QTRY_VERIFY(!first->receivedOf<protocol::Goodbye>().isEmpty());
        QCOMPARE(first->receivedOf<protocol::Goodbye>().first().code, QByteArray(protocol::Goodbye::CodeReplaced));
        QTRY_COMPARE(first->socket().state(), QAbstractSocket::UnconnectedState);
        QCOMPARE(m_server->tunnelCount(), 1);
        echoAnswerer(second.get());
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("POST", hostFor(*second), "/", "to the second"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.body, QByteArray("to the second"));
    }

    void testRefusedRegistrations_data()
    {
        QTest::addColumn<QString>("kind");
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("wrong audience") << "audience" << QByteArray(protocol::Goodbye::CodeBadToken);
        QTest::newRow("expired") << "expired" << QByteArray(protocol::Goodbye::CodeClockSkew);
        QTest::newRow("garbage token") << "garbage" << QByteArray(protocol::Goodbye::CodeBadToken);
        QTest::newRow("replayed token") << "replay" << QByteArray(protocol::Goodbye::CodeBadToken);
    }

    void testRefusedRegistrations()
    {
        QFETCH(QString, kind);
        QFETCH(QByteArray, code);
        startServer(baseConfig());
        auto key = crypto::KeyPair::generate();
        const qint64 now = util::Clock::system()->epochSecs();
        QByteArray token;
        if (kind == u"audience")
            token = crypto::RegistrationToken::create(*key, QStringLiteral("http://elsewhere.example"), {}, now);
        else if (kind == u"expired")
            token = crypto::RegistrationToken::create(*key, m_server->publicUrl().toString(), {}, now - 3600);
        else if (kind == u"garbage")
            token = "not.a.token";
        else
            token = crypto::RegistrationToken::create(*key, m_server->publicUrl().toString(), {}, now);

        if (kind == u"replay") {
            FakeTunnelClient first(*crypto::KeyPair::fromPrivatePem(key->privatePem()), m_server->publicUrl());
            first.connectAndRegister({}, token);
            QTRY_VERIFY(!first.receivedOf<protocol::RegistrationResponse>().isEmpty());
            QVERIFY(first.receivedOf<protocol::RegistrationResponse>().first().accepted);
        }
        FakeTunnelClient client(std::move(*key), m_server->publicUrl());
        client.connectAndRegister({}, token);
        QTRY_VERIFY(!client.receivedOf<protocol::RegistrationResponse>().isEmpty());
        const auto response = client.receivedOf<protocol::RegistrationResponse>().first();
        QVERIFY(!response.accepted);
        QCOMPARE(response.code, code);
        QVERIFY(!response.reason.isEmpty());
        QTRY_COMPARE(client.socket().state(), QAbstractSocket::UnconnectedState);
    }

    void testAuthorizedKeys()
    {
        auto allowed = crypto::KeyPair::generate();
        QTemporaryFile file;
        QVERIFY(file.open());
        file.write("# only this one\n" + crypto::labelForKey(*allowed).toLatin1() + "\n");
        file.close();
        ProxyConfig config = baseConfig();
        config.authorizedKeysFile = file.fileName();
        startServer(config);

        FakeTunnelClient stranger(*crypto::KeyPair::generate(), m_server->publicUrl());
        stranger.connectAndRegister();
        QTRY_VERIFY(!stranger.receivedOf<protocol::RegistrationResponse>().isEmpty());
        QCOMPARE(stranger.receivedOf<protocol::RegistrationResponse>().first().code,
                 QByteArray(protocol::Goodbye::CodeUnauthorized));

        FakeTunnelClient member(std::move(*allowed), m_server->publicUrl());
        member.connectAndRegister(QStringLiteral("web"));
        QTRY_VERIFY(!member.receivedOf<protocol::RegistrationResponse>().isEmpty());
        QVERIFY(member.receivedOf<protocol::RegistrationResponse>().first().accepted);
    }

    void testUnregisteredConnectionIsClosed()
    {
        ProxyConfig config = baseConfig();
        config.registrationTimeoutMs = 300;
        startServer(config);
        FakeTunnelClient client(*crypto::KeyPair::generate(), m_server->publicUrl());
        client.connectOnly();
        QTRY_COMPARE(client.socket().state(), QAbstractSocket::ConnectedState);
        QTRY_COMPARE_WITH_TIMEOUT(client.socket().state(), QAbstractSocket::UnconnectedState, 5000);
        QVERIFY(!client.receivedOf<protocol::Goodbye>().isEmpty());
        QCOMPARE(client.receivedOf<protocol::Goodbye>().first().code,
                 QByteArray(protocol::Goodbye::CodeRegistrationTimeout));
    }

    void testMalformedFrameDisconnectsWithReason()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("sent a malformed frame")));
        client->sendRaw(QByteArray("\xa1\x61v\x63", 4));
        QTRY_COMPARE(client->socket().state(), QAbstractSocket::UnconnectedState);
        const auto goodbyes = client->receivedOf<protocol::Goodbye>();
        QCOMPARE(goodbyes.size(), 1);
        QCOMPARE(goodbyes.first().code, QByteArray(protocol::Goodbye::CodeProtocolError));
        QVERIFY(goodbyes.first().reason.contains(QStringLiteral("malformed")));
    }

    // The tunnel's liveness is read from the injected clock, so a manual clock decides what each heartbeat
    // does (ping, drop, nothing). It cannot make the heartbeat come: that is a real QBasicTimer (every
    // max(500 ms, ping interval / 2)), as are the LazyDeadline timers of visitor connections; the tests wait
    // for its ticks through signals instead of sleeping through a timeout.
    void startWithManualClock(ProxyConfig config, std::unique_ptr<FakeTunnelClient> *client)
    {
        m_clock.setEpochSecs(QDateTime::currentSecsSinceEpoch()); // the client signs its token in real time
        config.pingIntervalMs = 200;
        config.tunnelTimeoutMs = 900;
        startServer(config, &m_clock);
        *client = onlineClient();
        QVERIFY(*client);
    }

    void testQuietTunnelIsPingedAndSilentOneDropped()
    {
        std::unique_ptr<FakeTunnelClient> client;
        startWithManualClock(baseConfig(), &client);
        if (!client)
            return;
        m_clock.advanceMs(300); // past the ping interval: the next heartbeat pings
        QTRY_VERIFY_WITH_TIMEOUT(!client->receivedOf<protocol::Ping>().isEmpty(), 3000);
        // This client never answers pings, so the proxy gives up on it.
        m_clock.advanceMs(1000); // past the tunnel timeout: the next heartbeat drops it
        QTRY_COMPARE_WITH_TIMEOUT(client->socket().state(), QAbstractSocket::UnconnectedState, 5000);
        QCOMPARE(client->receivedOf<protocol::Goodbye>().last().code, QByteArray(protocol::Goodbye::CodeIdle));
        QCOMPARE(m_server->tunnelCount(), 0);
    }

    void testAnsweringPingsKeepsTheTunnel()
    {
        std::unique_ptr<FakeTunnelClient> client;
        startWithManualClock(baseConfig(), &client);
        if (!client)
            return;
        connect(client.get(), &FakeTunnelClient::messageReceived, client.get(), [&client] {
            if (const auto *ping = std::get_if<protocol::Ping>(&client->received.last()))
                client->send(protocol::Pong{ping->nonce});
        });
        // Five ping intervals, 1.5 s in all: longer than the tunnel timeout, which each pong resets.
        for (int round = 1; round <= 5; ++round) {
            m_clock.advanceMs(300);
            QTRY_COMPARE_WITH_TIMEOUT(client->receivedOf<protocol::Ping>().size(), round, 3000);
        }
        QCOMPARE(client->socket().state(), QAbstractSocket::ConnectedState);
        QCOMPARE(m_server->tunnelCount(), 1);
    }

    void testHeadAndUrlLimits()
    {
        ProxyConfig config = baseConfig();
        config.maxHeadBytes = 4096;
        config.maxUrlBytes = 512;
        config.maxHeaders = 20;
        startServer(config);
        {
            RawVisitor visitor(m_server->port());
            visitor.write(rawRequest("GET", "localhost", "/" + QByteArray(600, 'u')));
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 414);
        }
        {
            RawVisitor visitor(m_server->port());
            visitor.write(rawRequest("GET", "localhost", "/", {}, "X-Big: " + QByteArray(5000, 'h') + "\r\n"));
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 431);
        }
        {
            RawVisitor visitor(m_server->port());
            QByteArray many;
            for (int i = 0; i < 25; ++i)
                many += "X-H" + QByteArray::number(i) + ": v\r\n";
            visitor.write(rawRequest("GET", "localhost", "/", {}, many));
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 431);
        }
        {
            RawVisitor visitor(m_server->port());
            visitor.write("GARBAGE\r\n\r\n");
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 400);
        }
    }

    void testSlowLorisIsCutOff()
    {
        ProxyConfig config = baseConfig();
        config.headTimeoutMs = 300;
        startServer(config);
        RawVisitor visitor(m_server->port());
        visitor.write("GET / HTTP/1.1\r\nHost: localhost\r\nX-Slow: ");
        QVERIFY(visitor.readResponse(5000));
        QCOMPARE(visitor.head.status, 408);
    }

    void testWebSocketThroughTheTunnel()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        // The fake client accepts with the second subprotocol offered, greets at once, then echoes.
        connect(client.get(), &FakeTunnelClient::messageReceived, client.get(), [&client] {
            const protocol::Message &last = client->received.last();
            if (const auto *upgrade = std::get_if<protocol::WsRequest>(&last)) {
                QVERIFY(!http::hasHeader(upgrade->headers, "Sec-WebSocket-Key"));
                QCOMPARE(http::headerValue(upgrade->headers, "Origin"), QByteArray("http://example.test"));
                client->send(protocol::WsResponse{upgrade->id, true, "chat.v2", 0, {}, {}});
                client->send(protocol::WsMessage{upgrade->id, false, "hello"});
            } else if (const auto *ws = std::get_if<protocol::WsMessage>(&last)) {
                client->send(protocol::WsMessage{ws->id, ws->binary, ws->payload});
            }
        });
        QWebSocket visitor;
        QStringList texts;
        QList<QByteArray> binaries;
        connect(&visitor, &QWebSocket::textMessageReceived, this, [&](const QString &t) { texts << t; });
        connect(&visitor, &QWebSocket::binaryMessageReceived, this, [&](const QByteArray &b) { binaries << b; });
        // QWebSocket sets Host from the URL, so this visitor uses path routing.
        QNetworkRequest request(wsUrl(*client, "/socket?x=1"));
        request.setRawHeader("Origin", "http://example.test");
        QWebSocketHandshakeOptions options;
        options.setSubprotocols({QStringLiteral("chat.v1"), QStringLiteral("chat.v2")});
        visitor.open(request, options);
        QTRY_COMPARE(visitor.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(visitor.subprotocol(), QStringLiteral("chat.v2"));
        QTRY_COMPARE(texts, QStringList({"hello"})); // sent by the service right after its handshake
        QByteArray binary;
        for (int i = 0; i < 256; ++i)
            binary.append(char(i));
        visitor.sendBinaryMessage(binary);
        visitor.sendTextMessage(QStringLiteral("ünïcode"));
        QTRY_COMPARE(binaries.size(), 1);
        QCOMPARE(binaries.first(), binary);
        QTRY_COMPARE(texts.size(), 2);
        QCOMPARE(texts.last(), QStringLiteral("ünïcode"));
        QVERIFY(!client->receivedOf<protocol::WsRequest>().isEmpty());
        const auto request0 = client->receivedOf<protocol::WsRequest>().first();
        QCOMPARE(request0.path, QByteArray("/socket"));
        QCOMPARE(request0.query, QByteArray("x=1"));

        // The service closes with a code of its own: the visitor sees it.
        client->send(protocol::WsTeardown{request0.id, 4001, QStringLiteral("bye 4001")});
        QTRY_COMPARE(visitor.state(), QAbstractSocket::UnconnectedState);
        QCOMPARE(int(visitor.closeCode()), 4001);
        QCOMPARE(visitor.closeReason(), QStringLiteral("bye 4001"));
    }

    void testWebSocketVisitorCloseReachesTheClient()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        acceptWebSockets(client.get());
        QWebSocket visitor;
        QVERIFY(openVisitor(visitor, *client));
        visitor.close(QWebSocketProtocol::CloseCode(4000), QStringLiteral("bye"));
        QTRY_VERIFY(!client->receivedOf<protocol::WsTeardown>().isEmpty());
        QCOMPARE(client->receivedOf<protocol::WsTeardown>().first().code, 4000);
        QCOMPARE(client->receivedOf<protocol::WsTeardown>().first().reason, QStringLiteral("bye"));
    }

    void testWebSocketRefusalPassesTheStatus()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        client->answerer = nullptr;
        connect(client.get(), &FakeTunnelClient::messageReceived, client.get(), [&client] {
            if (const auto *upgrade = std::get_if<protocol::WsRequest>(&client->received.last()))
                client->send(protocol::WsResponse{upgrade->id, false, {}, 403, {{"Content-Type", "text/plain"}}, "no"});
        });
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/ws", {}, kUpgradeHeaders));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 403);
        QCOMPARE(visitor.body, QByteArray("no"));
    }

    void testLostTunnelClosesVisitorWebSocketsWith1001()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        acceptWebSockets(client.get());
        QWebSocket visitor;
        QVERIFY(openVisitor(visitor, *client));
        client->socket().abort();
        QTRY_COMPARE(visitor.state(), QAbstractSocket::UnconnectedState);
        QCOMPARE(visitor.closeCode(), QWebSocketProtocol::CloseCodeGoingAway);
    }

    void testUnansweredUpgradeTimesOutWith504()
    {
        ProxyConfig config = baseConfig();
        config.requestTimeoutMs = 300;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/ws", {}, kUpgradeHeaders));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 504);
        // The client is told nobody waits for that socket any more.
        QTRY_VERIFY(!client->receivedOf<protocol::WsTeardown>().isEmpty());
    }

    void testWebSocketLimitGives503()
    {
        ProxyConfig config = baseConfig();
        config.maxWebSocketsPerTunnel = 1;
        auto client = startWithClient(config);
        QVERIFY(client);
        acceptWebSockets(client.get());
        QWebSocket first;
        QNetworkRequest request(wsUrl(*client, "/"));
        first.open(request);
        QTRY_COMPARE(first.state(), QAbstractSocket::ConnectedState);
        RawVisitor second(m_server->port());
        second.write(rawRequest("GET", hostFor(*client), "/ws", {}, kUpgradeHeaders));
        QVERIFY(second.readResponse());
        QCOMPARE(second.head.status, 503);
    }

    void testFrameSentWithTheHandshakeIsNotLost()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        acceptWebSockets(client.get());
        RawVisitor visitor(m_server->port());
        // Upgrade and a first masked text frame "hi" in one write, as an eager browser might send them.
        const QByteArray frame("\x81\x82\x00\x00\x00\x00hi", 8);
        visitor.write(rawRequest("GET", hostFor(*client), "/ws", {}, kUpgradeHeaders) + frame);
        QTRY_VERIFY(!client->receivedOf<protocol::WsMessage>().isEmpty());
        QCOMPARE(client->receivedOf<protocol::WsMessage>().first().payload, QByteArray("hi"));
    }

    void testVisitorThatDoesNotReadIsBounded()
    {
        ProxyConfig config = baseConfig();
        config.rateLimitPerSec = 1e6;
        config.rateBurst = 1e6;
        auto client = startWithClient(config);
        QVERIFY(client);
        acceptWebSockets(client.get());
        // A raw visitor that completes the handshake and then never reads again.
        RawVisitor visitor(m_server->port());
        visitor.socket.setReadBufferSize(4096);
        visitor.write(rawRequest("GET", hostFor(*client), "/ws", {}, kUpgradeHeaders));
        QTRY_VERIFY(!client->receivedOf<protocol::WsRequest>().isEmpty());
        const QByteArray id = client->receivedOf<protocol::WsRequest>().first().id;
        const QByteArray chunk(256 * 1024, 'x');
        // 64 MiB towards a visitor that reads nothing: the proxy must give up at its bound (8 MiB
        // queued), not hold it all.
        for (int i = 0; i < 256 && client->receivedOf<protocol::WsTeardown>().isEmpty(); ++i) {
            client->send(protocol::WsMessage{id, true, chunk});
            QTest::qWait(1);
        }
        QTRY_VERIFY_WITH_TIMEOUT(!client->receivedOf<protocol::WsTeardown>().isEmpty(), 10000);
        QCOMPARE(client->receivedOf<protocol::WsTeardown>().first().code, 1013);
    }

    void testIdleKeepAliveConnectionIsClosed()
    {
        ProxyConfig config = baseConfig();
        config.idleTimeoutMs = 300;
        startServer(config);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", "localhost", "/healthz"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        // Kept alive after the answer, then closed by the proxy once idle for longer than the limit.
        QCOMPARE(visitor.socket.state(), QAbstractSocket::ConnectedState);
        QTRY_COMPARE_WITH_TIMEOUT(visitor.socket.state(), QAbstractSocket::UnconnectedState, 5000);
    }

    void testConnectionLimit()
    {
        ProxyConfig config = baseConfig();
        config.maxConnections = 2;
        startServer(config);
        RawVisitor first(m_server->port());
        RawVisitor second(m_server->port());
        // An answer on the second connection means both have been accepted (in order).
        second.write(rawRequest("GET", "localhost", "/healthz"));
        QVERIFY(second.readResponse());
        QCOMPARE(QJsonDocument::fromJson(second.body).object().value(QStringLiteral("connections")).toInt(), 2);
        RawVisitor third(m_server->port());
        QTRY_COMPARE(third.socket.state(), QAbstractSocket::UnconnectedState); // refused beyond the limit
        QCOMPARE(first.socket.state(), QAbstractSocket::ConnectedState);
        QCOMPARE(second.socket.state(), QAbstractSocket::ConnectedState);
    }
};

QTEST_GUILESS_MAIN(TestProxyServer)
#include "TestProxyServer.moc"
