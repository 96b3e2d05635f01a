// Streamed request bodies (protocol 2) through the proxy in process: a visitor's upload goes to a
// scripted client in chunks within the window its credit keeps open, 100-continue still works, and
// --max-request-body is enforced from Content-Length and, for a chunked body, as it flows.
#include "FakeTunnelClient.h"
#include "ProxyServer.h"
#include "RawVisitor.h"
#include "StreamingFixture.h"

#include <QTest>

#include <memory>

using namespace keyhole;
using proxy::ProxyConfig;

class TestProxyUploads : public QObject
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

    void testRequestBodyStreamsWithinTheWindow()
    {
        constexpr qsizetype kSize = 1 << 20;
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        QByteArray upload(kSize, Qt::Uninitialized);
        for (qsizetype i = 0; i < kSize; ++i)
            upload[i] = char('a' + i % 26);
        RawVisitor visitor(port());
        visitor.write("POST /upload HTTP/1.1\r\nHost: " + hostFor(*client)
                      + "\r\nContent-Length: " + QByteArray::number(kSize) + "\r\n\r\n" + upload);
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        QVERIFY(request->streamed);
        QVERIFY(request->body.size() <= protocol::kInlineBodyBytes);
        // Without credit the proxy stops at the window: the rest waits in the visitor's socket.
        QTRY_VERIFY(F::requestBodySoFar(*client).size() >= protocol::kStreamWindowBytes);
        QTest::qWait(300);
        QCOMPARE(F::requestBodySoFar(*client).size(), protocol::kStreamWindowBytes);
        for (const auto &piece : client->receivedOf<protocol::HttpBody>())
            QVERIFY(piece.data.size() <= protocol::kBodyChunkBytes);
        // Each credit lets as much more through, until the end.
        bool ended = false;
        qint64 credited = 0;
        while (!ended) {
            const qint64 got = F::requestBodySoFar(*client).size();
            client->send(protocol::HttpCredit{request->id, got - credited});
            credited = got;
            QVERIFY(QTest::qWaitFor([&] { return F::requestBodySoFar(*client, &ended).size() > got || ended; }, 5000));
        }
        QCOMPARE(F::requestBodySoFar(*client), upload);
        client->send(protocol::HttpResponse{request->id, 201, {}, "stored", false});
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 201);
    }

    void testSmallCompleteBodyStaysInline()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write(rawRequest("POST", hostFor(*client), "/small", "tiny body"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        QVERIFY(!request->streamed);
        QCOMPARE(request->body, QByteArray("tiny body"));
    }

    void testSmallBodyAfterContinueStaysInline()
    {
        // The head came alone, but its Content-Length fits inline: the proxy waits for the body.
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        visitor.write("PUT /small HTTP/1.1\r\nHost: " + hostFor(*client)
                      + "\r\nExpect: 100-continue\r\nContent-Length: 5000\r\n\r\n");
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
        QTest::qWait(100);
        QVERIFY(client->receivedOf<protocol::HttpRequest>().isEmpty());
        visitor.write(QByteArray(5000, 's'));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        QVERIFY(!request->streamed);
        QCOMPARE(request->body, QByteArray(5000, 's'));
    }

    void testExpectContinueWithAStreamedBody()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(port());
        // Larger than an inline body: the request goes out streamed as soon as 100 Continue is sent.
        const qsizetype size = qsizetype(protocol::kInlineBodyBytes) + 100000;
        visitor.write("PUT /file HTTP/1.1\r\nHost: " + hostFor(*client)
                      + "\r\nExpect: 100-continue\r\nContent-Length: " + QByteArray::number(size) + "\r\n\r\n");
        QByteArray seen;
        QTRY_VERIFY(F::readAvailable(visitor, &seen).startsWith("HTTP/1.1 100 Continue\r\n\r\n"));
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        QVERIFY(request->streamed);
        visitor.write(QByteArray(size, 'p'));
        // More than a window: credit it as it arrives, until the end.
        bool ended = false;
        qint64 credited = 0;
        while (!ended) {
            QVERIFY(
                QTest::qWaitFor([&] { return F::requestBodySoFar(*client, &ended).size() > credited || ended; }, 5000));
            const qint64 got = F::requestBodySoFar(*client, &ended).size();
            if (got > credited)
                client->send(protocol::HttpCredit{request->id, got - credited});
            credited = got;
        }
        QCOMPARE(F::requestBodySoFar(*client).size(), size);
    }

    void testRequestLimit_data()
    {
        QTest::addColumn<bool>("chunked");
        QTest::newRow("Content-Length") << false;
        QTest::newRow("chunked, counted") << true;
    }

    void testRequestLimit()
    {
        QFETCH(bool, chunked);
        ProxyConfig config = baseConfig();
        config.maxRequestBodyBytes = 200000;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(port());
        if (!chunked) {
            visitor.write("POST / HTTP/1.1\r\nHost: " + hostFor(*client) + "\r\nContent-Length: 200001\r\n\r\n");
            QVERIFY(visitor.readResponse());
            QCOMPARE(visitor.head.status, 413);
            QVERIFY(client->receivedOf<protocol::HttpRequest>().isEmpty()); // nothing forwarded
            return;
        }
        visitor.write("POST / HTTP/1.1\r\nHost: " + hostFor(*client) + "\r\nTransfer-Encoding: chunked\r\n\r\n");
        const auto request = F::firstRequest(*client);
        QVERIFY(request);
        QVERIFY(request->streamed);
        // The client keeps crediting; the body crosses the limit as it flows.
        QObject::connect(client.get(), &FakeTunnelClient::messageReceived, client.get(), [&client] {
            if (const auto *body = std::get_if<protocol::HttpBody>(&client->received.last()))
                client->send(protocol::HttpCredit{body->id, body->data.size()});
        });
        const QByteArray chunk = QByteArray::number(50000, 16) + "\r\n" + QByteArray(50000, 'c') + "\r\n";
        for (int i = 0; i < 5; ++i)
            visitor.write(chunk);
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 413);
        QTRY_VERIFY(F::cancelledFor(*client, request->id));
        QVERIFY(F::requestBodySoFar(*client).size() <= 200000);
    }
};

QTEST_GUILESS_MAIN(TestProxyUploads)
#include "TestProxyUploads.moc"
