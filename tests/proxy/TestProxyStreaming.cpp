// Streamed answers (protocol 2) through the proxy in process: a scripted tunnel client streams,
// visitors are raw sockets. Framing towards the visitor, credit only as the visitor reads, cancel,
// the response limit, the two timeouts, the frame bound and the refusal of a version 1 client.
#include "FakeTunnelClient.h"
#include "ProxyServer.h"
#include "RawVisitor.h"
#include "StreamedAnswers.h"
#include "StreamingFixture.h"
#include "crypto/Label.h"
#include "crypto/RegistrationToken.h"
#include "http/HeaderRules.h"
#include "protocol/Codec.h"
#include "util/Clock.h"

#include <QTest>
#include <QWebSocket>

#include <memory>

using namespace keyhole;
using proxy::ProxyConfig;

class TestProxyStreaming : public QObject
{
    Q_OBJECT

private:
    StreamingFixture m_fixture;

    static ProxyConfig baseConfig() { return StreamingFixture::baseConfig(); }
    std::unique_ptr<FakeTunnelClient> startWithClient(const ProxyConfig &config) { return m_fixture.start(config); }
    QByteArray hostFor(const FakeTunnelClient &client) const { return m_fixture.hostFor(client); }
    quint16 port() const { return m_fixture.proxy->port(); }
    using F = StreamingFixture;

private Q_SLOTS:
    void cleanup() { m_fixture.proxy.stop(); }

    void testAnswerReachesTheVisitorPieceByPiece()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/events"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id, {{"Content-Type", "text/event-stream"}}));
        client->send(protocol::HttpBody{request->id, "data: one\n\n", false});
        // The first piece is at the visitor while the service has not sent the rest.
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).contains("data: one\n\n"));
        QVERIFY(seen.startsWith("HTTP/1.1 200"));
        QVERIFY(seen.contains("Transfer-Encoding: chunked\r\n"));
        QVERIFY(!seen.contains("0\r\n\r\n"));
        client->send(protocol::HttpBody{request->id, "data: two\n\n", false});
        QTRY_VERIFY(F::readAvailable(visitor, &seen).contains("data: two\n\n"));
        client->send(protocol::HttpBody{request->id, {}, true});
        QTRY_VERIFY(F::readAvailable(visitor, &seen).endsWith("\r\n0\r\n\r\n"));
        QCOMPARE(visitor.socket.state(), QAbstractSocket::ConnectedState); // keep-alive
    }

    void testFraming_data()
    {
        QTest::addColumn<bool>("http10");
        QTest::addColumn<bool>("withLength");
        QTest::addColumn<QByteArray>("expectedHeader");
        QTest::newRow("service's length") << false << true << QByteArray("Content-Length: 10\r\n");
        QTest::newRow("chunked to HTTP/1.1") << false << false << QByteArray("Transfer-Encoding: chunked\r\n");
        QTest::newRow("length to HTTP/1.0") << true << true << QByteArray("Content-Length: 10\r\n");
        QTest::newRow("close-delimited to HTTP/1.0") << true << false << QByteArray("Connection: close\r\n");
    }

    void testFraming()
    {
        QFETCH(bool, http10);
        QFETCH(bool, withLength);
        QFETCH(QByteArray, expectedHeader);
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write("GET /f " + QByteArray(http10 ? "HTTP/1.0" : "HTTP/1.1") + "\r\nHost: " + hostFor(*client)
                      + "\r\n\r\n");
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        protocol::HeaderList headers;
        if (withLength)
            headers.append({QByteArrayLiteral("Content-Length"), QByteArrayLiteral("10")});
        client->send(F::streamedHead(request->id, headers));
        client->send(protocol::HttpBody{request->id, "01234", false});
        client->send(protocol::HttpBody{request->id, "56789", true});
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.body, QByteArray("0123456789"));
        QByteArray head;
        for (const auto &header : visitor.head.headers)
            head += header.first + ": " + header.second + "\r\n";
        QVERIFY2(head.contains(expectedHeader), head.constData());
        QCOMPARE(visitor.head.chunked, !withLength && !http10);
        if (http10 && !withLength) {
            QVERIFY(visitor.header("Content-Length").isNull());
            QTRY_COMPARE(visitor.socket.state(), QAbstractSocket::UnconnectedState); // the close ends the body
        }
    }

    void testAnswerWithoutBodyIsNotStreamed()
    {
        // A HEAD answer has no body whatever the client streams: the head goes out alone, the
        // client is told to stop, and the connection serves the next request.
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("HEAD", hostFor(*client), "/file"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id, {{QByteArrayLiteral("Content-Length"), QByteArrayLiteral("1234")}}));
        client->send(protocol::HttpBody{request->id, "must not reach the visitor", true});
        QVERIFY(visitor.readResponse(10000, true));
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.header("Content-Length"), QByteArray("1234"));
        QTRY_VERIFY(F::cancelledFor(*client, request->id));
        visitor.write(rawRequest("GET", hostFor(*client), "/next"));
        QTRY_COMPARE(client->receivedOf<protocol::HttpRequest>().size(), 2);
        client->send(
            protocol::HttpResponse{client->receivedOf<protocol::HttpRequest>().last().id, 200, {}, "ok", false});
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.body, QByteArray("ok"));
    }

    void testCreditOnlyAsTheVisitorReads()
    {
        constexpr qint64 kSize = 48 << 20; // past what the kernel's loopback buffers take
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        auto *service = new StreamedAnswers(client.get(), kSize);
        RawVisitor visitor(port());
        visitor.socket.setReadBufferSize(4096);
        visitor.write(rawRequest("GET", hostFor(*client), "/big"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        // The visitor reads nothing: once the kernel's buffers are full, credit stops.
        qint64 credited = -1;
        QTRY_VERIFY_WITH_TIMEOUT(service->credited(request->id) > 0, 10000);
        while (credited != service->credited(request->id)) {
            credited = service->credited(request->id);
            QTest::qWait(500);
        }
        QVERIFY2(service->sent(request->id) < kSize, "the whole answer was credited while the visitor read nothing");
        QVERIFY(service->sent(request->id) - credited <= protocol::kStreamWindowBytes);
        qInfo() << "credit stopped after" << credited
                << "bytes (the kernel's buffers); in flight:" << service->sent(request->id) - credited;
        // Reading resumes the credit, and the whole answer arrives.
        visitor.socket.setReadBufferSize(0);
        QVERIFY(visitor.readResponse(60000));
        QCOMPARE(visitor.body.size(), kSize);
    }

    void testPipelinedRequestWaitsForTheStreamedAnswer()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/a") + rawRequest("GET", hostFor(*client), "/b"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id));
        client->send(protocol::HttpBody{request->id, "part", false});
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).contains("part"));
        QTest::qWait(200);
        QCOMPARE(client->receivedOf<protocol::HttpRequest>().size(), 1); // /b waits for /a's end
        client->send(protocol::HttpBody{request->id, {}, true});
        QTRY_COMPARE(client->receivedOf<protocol::HttpRequest>().size(), 2);
        QCOMPARE(client->receivedOf<protocol::HttpRequest>().last().path, QByteArray("/b"));
    }

    void testVisitorLeavingMidStreamCancels()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        auto visitor = std::make_unique<RawVisitor>(port());
        visitor->write(rawRequest("GET", hostFor(*client), "/stream"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id));
        client->send(protocol::HttpBody{request->id, "first", false});
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(*visitor, &seen).contains("first"));
        QVERIFY(!F::cancelledFor(*client, request->id));
        visitor->socket.abort();
        QTRY_VERIFY(F::cancelledFor(*client, request->id));
    }

    void testResponseLimit()
    {
        ProxyConfig config = baseConfig();
        config.maxResponseBodyBytes = 100000;
        auto client = startWithClient(config);
        QVERIFY(client);
        {
            // Announced too large: 502 before anything is sent.
            RawVisitor visitor(port());
            visitor.write(rawRequest("GET", hostFor(*client), "/announced"));
            const auto request = F::firstRequest(*client);
            QVERIFY(request);
            client->send(F::streamedHead(request->id, {{"Content-Length", "100001"}}));
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 502);
            QTRY_VERIFY(F::cancelledFor(*client, request->id));
        }
        // Crossing it mid-stream: the visitor's connection is cut, no terminating chunk.
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/flowing"));
        QTRY_COMPARE(client->receivedOf<protocol::HttpRequest>().size(), 2);
        const QByteArray id = client->receivedOf<protocol::HttpRequest>().last().id;
        client->send(F::streamedHead(id));
        client->send(protocol::HttpBody{id, QByteArray(60000, 'r'), false});
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).size() > 60000);
        client->send(protocol::HttpBody{id, QByteArray(60000, 'r'), false});
        QTRY_COMPARE(visitor.socket.state(), QAbstractSocket::UnconnectedState);
        F::readAvailable(visitor, &seen);
        QVERIFY(!seen.endsWith("0\r\n\r\n"));
        QTRY_VERIFY(F::cancelledFor(*client, id));
    }

    void testRequestTimeoutDoesNotCutAFlowingBody()
    {
        ProxyConfig config = baseConfig();
        config.requestTimeoutMs = 1000;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/slow"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id));
        QElapsedTimer clock;
        clock.start();
        QByteArray expected;
        while (clock.elapsed() < 2500) { // well past the request timeout
            client->send(protocol::HttpBody{request->id, "tick\n", false});
            expected += "tick\n";
            QTest::qWait(250);
        }
        client->send(protocol::HttpBody{request->id, {}, true});
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.body, expected);
    }

    void testBodyIdleTimeoutCutsBothEnds()
    {
        ProxyConfig config = baseConfig();
        config.bodyIdleTimeoutMs = 1000;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/idle"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id));
        client->send(protocol::HttpBody{request->id, "then nothing", false});
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).contains("then nothing"));
        QTRY_COMPARE_WITH_TIMEOUT(visitor.socket.state(), QAbstractSocket::UnconnectedState, 5000);
        QTRY_VERIFY(F::cancelledFor(*client, request->id));
        QVERIFY(!F::readAvailable(visitor, &seen).endsWith("0\r\n\r\n"));
    }

    void testClientOverTheWindowIsCancelled()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.socket.setReadBufferSize(4096);
        visitor.write(rawRequest("GET", hostFor(*client), "/flood"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id));
        // Chunks without waiting for credit, towards a visitor that reads nothing: once the kernel's
        // buffers are full no credit comes back, and the client is past the window.
        for (int i = 0; i < 256; ++i)
            client->send(protocol::HttpBody{request->id, QByteArray(protocol::kBodyChunkBytes, 'f'), false});
        QTRY_VERIFY_WITH_TIMEOUT(F::cancelledFor(*client, request->id), 20000);
        visitor.socket.setReadBufferSize(0); // reading on, the visitor finds its connection cut
        QByteArray seen;
        QTRY_VERIFY_WITH_TIMEOUT(
            (F::readAvailable(visitor, &seen), visitor.socket.state() == QAbstractSocket::UnconnectedState), 20000);
        QVERIFY(!seen.endsWith("0\r\n\r\n"));
        // A body for an exchange that is gone, or never was, is ignored: the tunnel stays up.
        client->send(protocol::HttpBody{request->id, "late", false});
        client->send(protocol::HttpBody{"nobody-1", "stray", true});
        RawVisitor next(port());
        next.write(rawRequest("GET", hostFor(*client), "/after"));
        QTRY_COMPARE(client->receivedOf<protocol::HttpRequest>().size(), 2);
        client->send(
            protocol::HttpResponse{client->receivedOf<protocol::HttpRequest>().last().id, 200, {}, "ok", false});
        QVERIFY(next.readResponse());
        QCOMPARE(next.body, QByteArray("ok"));
    }

    void testLostTunnelCutsAStreamedAnswer()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/lost"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        client->send(F::streamedHead(request->id));
        client->send(protocol::HttpBody{request->id, "some", false});
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).contains("some"));
        client->socket().abort();
        QTRY_COMPARE(visitor.socket.state(), QAbstractSocket::UnconnectedState);
        QVERIFY(!F::readAvailable(visitor, &seen).endsWith("0\r\n\r\n"));
    }

    void testControlFrameBoundDoesNotGrowWithTheBodyLimits()
    {
        ProxyConfig config = baseConfig();
        config.maxRequestBodyBytes = config.maxResponseBodyBytes = qint64(1) << 30;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("GET", hostFor(*client), "/whole"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        // A 2 MB body in one message: bodies that large must be streamed, whatever the limits.
        client->send(protocol::HttpResponse{request->id, 200, {}, QByteArray(2 << 20, 'w'), false});
        QTRY_COMPARE(client->socket().state(), QAbstractSocket::UnconnectedState);
        QCOMPARE(int(client->socket().closeCode()), 1009);
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 502);
    }

    void testVersion1ClientIsRefusedInItsOwnWords()
    {
        QVERIFY(m_fixture.proxy.start(baseConfig()));
        const auto key = crypto::KeyPair::generate();
        QVERIFY(key);
        QWebSocket socket;
        QList<QByteArray> frames;
        connect(&socket, &QWebSocket::binaryMessageReceived, this,
                [&frames](const QByteArray &frame) { frames.append(frame); });
        socket.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/subscribe").arg(port())));
        QTRY_COMPARE(socket.state(), QAbstractSocket::ConnectedState);
        const QByteArray token = crypto::RegistrationToken::create(*key, m_fixture.proxy->publicUrl().toString(), {},
                                                                   util::Clock::system()->epochSecs());
        socket.sendBinaryMessage(protocol::Codec::encode(protocol::RegistrationRequest{token}, 1));
        QTRY_VERIFY(!frames.isEmpty());
        const protocol::DecodeResult decoded = protocol::Codec::decode(frames.first());
        QVERIFY2(decoded, qPrintable(decoded.error));
        QCOMPARE(decoded.version, 1);
        const auto *response = std::get_if<protocol::RegistrationResponse>(&*decoded.message);
        QVERIFY(response);
        QVERIFY(!response->accepted);
        QCOMPARE(response->code, QByteArray(protocol::Goodbye::CodeVersion));
        QVERIFY2(response->reason.contains(QLatin1String("protocol 1"))
                     && response->reason.contains(QLatin1String("2")),
                 qPrintable(response->reason));
        QTRY_COMPARE(socket.state(), QAbstractSocket::UnconnectedState);
    }
};

QTEST_GUILESS_MAIN(TestProxyStreaming)
#include "TestProxyStreaming.moc"
