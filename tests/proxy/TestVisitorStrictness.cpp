// The proxy in-process, visitors on raw sockets: where the proxy and a lenient service behind it
// could disagree about where a request ends or what it says, the request is refused and the
// connection ends at once; what the proxy does forward carries only what the service may trust.
#include "FakeTunnelClient.h"
#include "InProcessProxy.h"
#include "RawVisitor.h"
#include "crypto/Label.h"
#include "http/HeaderRules.h"

#include <QElapsedTimer>
#include <QScopeGuard>
#include <QTest>

#include <memory>

#ifdef Q_OS_UNIX
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#endif

using namespace keyhole;
using proxy::ProxyConfig;
using proxy::ProxyServer;

namespace {

// The proxy's lingering close reads for 2 s after an error (kDrainMs in proxy/visitors/VisitorConnection.cpp).
// Timed from before the request is written, an EOF sent only once the draining ends cannot come sooner
// than that, so "< kDrainMs" tells the two apart and leaves a loaded machine all of it as margin.
constexpr int kDrainMs = 2000;

QByteArray chunkedHead(const QByteArray &host)
{
    return "POST /upload HTTP/1.1\r\nHost: " + host + "\r\nTransfer-Encoding: chunked\r\n\r\n";
}

} // namespace

class TestVisitorStrictness : public QObject
{
    Q_OBJECT

private:
    InProcessProxy m_server; // the fixture: its helpers are used under their own names below

    static ProxyConfig baseConfig() { return InProcessProxy::baseConfig(); }

    std::unique_ptr<FakeTunnelClient> startWithClient(const ProxyConfig &config)
    {
        auto client = m_server.startWithClient(config);
        if (!client)
            return nullptr;
        // The service answers 200 and says what it was sent.
        FakeTunnelClient *raw = client.get();
        client->answerer = [raw](const protocol::HttpRequest &request) {
            protocol::HttpResponse response;
            response.id = request.id;
            response.status = 200;
            response.headers = {{"X-Path", request.path},
                                {"X-Got-Host", http::headerValue(request.headers, "Host")},
                                {"X-Got-XFF", http::headerValue(request.headers, "X-Forwarded-For")},
                                {"X-Got-XFH", http::headerValue(request.headers, "X-Forwarded-Host")}};
            response.body = request.body;
            raw->send(response);
        };
        return client;
    }

    QByteArray label(const FakeTunnelClient &client) const { return crypto::labelForKey(client.key()).toLatin1(); }

    QByteArray hostFor(const FakeTunnelClient &client) const { return m_server.hostFor(client); }

    static bool waitForEof(RawVisitor &visitor, int ms)
    {
        return QTest::qWaitFor(
            [&] {
                visitor.socket.readAll();
                return visitor.socket.state() != QAbstractSocket::ConnectedState;
            },
            ms);
    }

    // After a refusal, a clean request on a new connection: once it reached the client, everything
    // sent before it would have too (one control channel, in order).
    QList<protocol::HttpRequest> requestsSeenAfterProbe(FakeTunnelClient &client)
    {
        RawVisitor probe(m_server->port());
        probe.write(rawRequest("GET", hostFor(client), "/probe"));
        if (!probe.readResponse() || probe.head.status != 200)
            return {};
        return client.receivedOf<protocol::HttpRequest>();
    }

private Q_SLOTS:
    void cleanup() { m_server.stop(); }

    void testRefusedAndClosed_data()
    {
        QTest::addColumn<QByteArray>("request"); // %HOST% is the tunnel's host
        QTest::addColumn<int>("status");
        const QByteArray h = "%HOST%";
        QTest::newRow("chunk data without CRLF") << chunkedHead(h) + "3\r\nabcXX0\r\n\r\n" << 400;
        QTest::newRow("chunk size overflow") << chunkedHead(h) + "10000000000000003\r\nabc\r\n0\r\n\r\n" << 400;
        QTest::newRow("chunk ext empty value") << chunkedHead(h) + "3;a=\r\nabc\r\n0\r\n\r\n" << 400;
        QTest::newRow("trailer obs-fold") << chunkedHead(h) + "3\r\nabc\r\n0\r\nX-T: a\r\n b\r\n\r\n" << 400;
        QTest::newRow("obs-fold") << "GET / HTTP/1.1\r\nHost: " + h + "\r\nX-A: a\r\n b\r\n\r\n" << 400;
        QTest::newRow("bare LF ends head") << "GET / HTTP/1.1\r\nHost: " + h + "\r\n\n" << 400;
        QTest::newRow("bare LF ends request line") << "GET / HTTP/1.1\nHost: " + h + "\r\n\r\n" << 400;
        QTest::newRow("target tab") << "GET /a\tb HTTP/1.1\r\nHost: " + h + "\r\n\r\n" << 400;
        QTest::newRow("target 8-bit") << "GET /caf\xc3\xa9 HTTP/1.1\r\nHost: " + h + "\r\n\r\n" << 400;
        QTest::newRow("Transfer_Encoding")
            << "POST / HTTP/1.1\r\nHost: " + h + "\r\nTransfer_Encoding: chunked\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
            << 400;
        QTest::newRow("Content_Length") << "POST / HTTP/1.1\r\nHost: " + h + "\r\nContent_Length: 5\r\n\r\nhello"
                                        << 400;
        QTest::newRow("two Hosts") << "GET / HTTP/1.1\r\nHost: " + h + "\r\nHost: other.example\r\n\r\n" << 400;
        QTest::newRow("Host list") << "GET / HTTP/1.1\r\nHost: " + h + ", other.example\r\n\r\n" << 400;
        QTest::newRow("Host userinfo") << "GET / HTTP/1.1\r\nHost: user@" + h + "\r\n\r\n" << 400;
        QTest::newRow("absolute-form userinfo") << "GET http://u@" + h + "/ HTTP/1.1\r\nHost: " + h + "\r\n\r\n" << 400;
        QTest::newRow("trailers over the head limit")
            << chunkedHead(h) + "3\r\nabc\r\n0\r\nX-Big: " + QByteArray(5000, 't') + "\r\n\r\n"
            << 431;
    }

    void testRefusedAndClosed()
    {
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        ProxyConfig config = baseConfig();
        config.maxHeadBytes = 4096;
        auto client = startWithClient(config);
        QVERIFY(client);
        request.replace("%HOST%", hostFor(*client));
        RawVisitor visitor(m_server->port());
        QElapsedTimer sinceRequest;
        sinceRequest.start();
        // A valid request right behind it must not be answered or forwarded either.
        visitor.write(request + rawRequest("GET", hostFor(*client), "/smuggled"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, status);
        QCOMPARE(visitor.header("Connection"), QByteArray("close"));
        QVERIFY(waitForEof(visitor, 5000));
        QVERIFY2(sinceRequest.elapsed() < kDrainMs, qPrintable(QString::number(sinceRequest.elapsed())));
        QVERIFY(!visitor.readResponse(100));

        const auto seen = requestsSeenAfterProbe(*client);
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen.first().path, QByteArray("/probe"));
    }

    void testEofComesRightAfterTheError()
    {
        // The visitor keeps its side open: the FIN must come from the proxy right after the answer,
        // not when the proxy stops draining.
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        QElapsedTimer sinceRequest;
        sinceRequest.start();
        visitor.write("GET / HTTP/1.1\r\nHost: " + hostFor(*client) + "\r\nX-A: a\r\n b\r\n\r\n");
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 400);
        QVERIFY(waitForEof(visitor, 5000));
        QVERIFY2(sinceRequest.elapsed() < kDrainMs, qPrintable(QString::number(sinceRequest.elapsed())));
    }

    void testProxyReadsOnAfterItsFin_data()
    {
        QTest::addColumn<QByteArray>("request"); // %HOST% is the tunnel's host
        QTest::addColumn<int>("status");
        QTest::newRow("after an error") << QByteArray("GET / HTTP/1.1\r\nHost: %HOST%\r\nX-A: a\r\n b\r\n\r\n") << 400;
        QTest::newRow("after Connection: close")
            << QByteArray("GET /first HTTP/1.1\r\nHost: %HOST%\r\nConnection: close\r\n\r\n") << 200;
    }

    void testProxyReadsOnAfterItsFin()
    {
#ifndef Q_OS_UNIX
        QSKIP("needs a raw socket that can write after it has read EOF");
#else
        // RFC 9112 9.6: FIN right after the answer (the visitor reads EOF at once), yet the proxy
        // keeps reading for a while, so a visitor still writing gets no RST (which could destroy the
        // answer in flight). What it writes then is never answered nor forwarded.
        QFETCH(QByteArray, request);
        QFETCH(int, status);
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        request.replace("%HOST%", hostFor(*client));

        const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
        QVERIFY(fd >= 0);
        const auto closeFd = qScopeGuard([fd] { ::close(fd); });
        sockaddr_in address{};
        address.sin_family = AF_INET;
        address.sin_port = htons(m_server->port());
        address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
        QCOMPARE(::connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address), 0);
        const QByteArray out = request + rawRequest("GET", hostFor(*client), "/second");
        QElapsedTimer sinceRequest;
        sinceRequest.start();
        QCOMPARE(::send(fd, out.constData(), size_t(out.size()), MSG_NOSIGNAL), ssize_t(out.size()));

        QByteArray answer;
        bool eof = false;
        QVERIFY(QTest::qWaitFor(
            [&] {
                char buffer[4096];
                const ssize_t n = ::recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
                if (n > 0)
                    answer.append(buffer, qsizetype(n));
                eof = n == 0;
                return eof || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
            },
            5000));
        QVERIFY(eof);
        QVERIFY2(sinceRequest.elapsed() < kDrainMs, qPrintable(QString::number(sinceRequest.elapsed())));
        QVERIFY2(answer.startsWith("HTTP/1.1 " + QByteArray::number(status)), answer.constData());
        QCOMPARE(answer.count("HTTP/1.1 "), 1);

        // Still writing after the FIN: accepted by a proxy that reads on, refused with RST (then
        // EPIPE on the next write) by one that closed.
        const QByteArray more(1024, 'm');
        QVERIFY(::send(fd, more.constData(), size_t(more.size()), MSG_NOSIGNAL) > 0);
        QTest::qWait(200); // no signal for "no RST came back": give a reset its time on loopback
        QVERIFY2(::send(fd, more.constData(), size_t(more.size()), MSG_NOSIGNAL) > 0, strerror(errno));

        const auto seen = requestsSeenAfterProbe(*client);
        QCOMPARE(seen.size(), status == 200 ? 2 : 1);
        QCOMPARE(seen.last().path, QByteArray("/probe"));
#endif
    }

    void testTrailersNeverReachTheService()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(chunkedHead(hostFor(*client))
                      + "5\r\nhello\r\n0\r\nHost: evil.example\r\nX-Forwarded-For: 6.6.6.6\r\nX-Trailer: t\r\n\r\n");
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.body, QByteArray("hello"));
        QCOMPARE(visitor.header("X-Got-Host"), hostFor(*client));
        QCOMPARE(visitor.header("X-Got-XFF"), QByteArray("127.0.0.1"));
        QVERIFY(!client->receivedOf<protocol::HttpRequest>().isEmpty());
        const auto request = client->receivedOf<protocol::HttpRequest>().first();
        QVERIFY(!http::hasHeader(request.headers, "X-Trailer"));
        int hosts = 0;
        for (const auto &header : request.headers)
            hosts += http::headerNameEquals(header.first, "Host") ? 1 : 0;
        QCOMPARE(hosts, 1);
    }

    void testEndlessTrailerHitsTheHeadLimit()
    {
        ProxyConfig config = baseConfig();
        config.maxHeadBytes = 2048;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(chunkedHead(hostFor(*client)) + "0\r\nX-Endless: ");
        for (int i = 0; i < 8 && visitor.socket.state() == QAbstractSocket::ConnectedState; ++i)
            visitor.write(QByteArray(1024, 'x'));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 431);
    }

    void testUnknownUpgradeIsServedAsHttp()
    {
        // What `curl --http2 http://...` sends: the proxy does not speak h2c and says nothing of it.
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/h2c", {},
                                 "Connection: Upgrade, HTTP2-Settings\r\nUpgrade: h2c\r\n"
                                 "HTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.header("X-Path"), QByteArray("/h2c"));
        QVERIFY(!client->receivedOf<protocol::HttpRequest>().isEmpty());
        const auto request = client->receivedOf<protocol::HttpRequest>().first();
        for (const char *name : {"Upgrade", "HTTP2-Settings", "Connection"})
            QVERIFY2(!http::hasHeader(request.headers, name), name);
        // The connection goes on as HTTP/1.1.
        visitor.write(rawRequest("GET", hostFor(*client), "/again"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.header("X-Path"), QByteArray("/again"));
    }

    void testPathRoutedRequestCarriesTheTunnelsHost()
    {
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", "evil.example", "/proxy/request/" + label(*client) + "/x"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.header("X-Path"), QByteArray("/x"));
        QCOMPARE(visitor.header("X-Got-Host"), label(*client) + ".localhost");
        QCOMPARE(visitor.header("X-Got-XFH"), label(*client) + ".localhost");
    }

    void testPathRoutingOff()
    {
        ProxyConfig config = baseConfig();
        config.pathRouting = false;
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", "localhost", "/proxy/request/" + label(*client) + "/x"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 404);
        const auto seen = requestsSeenAfterProbe(*client);
        QCOMPARE(seen.size(), 1);
        QCOMPARE(seen.first().path, QByteArray("/probe"));
    }

    void testAbsoluteFormAuthorityWins()
    {
        // RFC 9112 3.2.2: route by the target's authority, and the service sees it as Host.
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write("GET http://" + hostFor(*client) + "/abs?q=1 HTTP/1.1\r\nHost: other.example\r\n\r\n");
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QCOMPARE(visitor.header("X-Path"), QByteArray("/abs"));
        QCOMPARE(visitor.header("X-Got-Host"), hostFor(*client));
    }

    void testClientAddressHeaders_data()
    {
        QTest::addColumn<bool>("trusted");
        QTest::newRow("untrusted visitor") << false;
        QTest::newRow("trusted proxy") << true;
    }

    void testClientAddressHeaders()
    {
        QFETCH(bool, trusted);
        ProxyConfig config = baseConfig();
        if (trusted)
            config.trustedProxies.append(QHostAddress::parseSubnet(QStringLiteral("127.0.0.0/8")));
        auto client = startWithClient(config);
        QVERIFY(client);
        RawVisitor visitor(m_server->port());
        visitor.write(rawRequest("GET", hostFor(*client), "/", {},
                                 "X-Real-IP: 6.6.6.6\r\nX-Forwarded-Port: 1\r\nX_Forwarded_For: 7.7.7.7\r\n"));
        QVERIFY(visitor.readResponse());
        QCOMPARE(visitor.head.status, 200);
        QVERIFY(!client->receivedOf<protocol::HttpRequest>().isEmpty());
        const auto request = client->receivedOf<protocol::HttpRequest>().first();
        QCOMPARE(http::headerValue(request.headers, "X-Real-IP") == "6.6.6.6", trusted);
        QCOMPARE(http::headerValue(request.headers, "X-Forwarded-Port") == "1", trusted);
        QVERIFY(!http::hasHeader(request.headers, "X_Forwarded_For"));
    }
};

QTEST_GUILESS_MAIN(TestVisitorStrictness)
#include "TestVisitorStrictness.moc"
