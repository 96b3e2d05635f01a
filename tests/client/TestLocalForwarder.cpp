#include "LocalForwarder.h"
#include "ScriptedHttpService.h"
#include "http/HeaderRules.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using keyhole::client::LocalForwarder;
using keyhole::client::RequestRecord;
using keyhole::protocol::HeaderList;
using keyhole::protocol::HttpRequest;
using keyhole::protocol::HttpResponse;

namespace {

// The local service; Backend::Reply says what it does with each request.
using Backend = keyhole::testing::ScriptedHttpService;

Backend::Reply reply(const QByteArray &bytes, bool close = false)
{
    return {bytes, close, false};
}

struct Answer {
    HttpResponse response;
    RequestRecord record;
    int calls = 0;
};

HttpRequest makeRequest(const QByteArray &method, const QByteArray &path, const QByteArray &id = "r1")
{
    HttpRequest request;
    request.id = id;
    request.method = method;
    request.path = path;
    request.headers = {{"Host", "abc.tunnel.test"}, {"User-Agent", "test"}};
    request.remoteAddress = QStringLiteral("203.0.113.9");
    return request;
}

LocalForwarder::Options optionsFor(const QUrl &target)
{
    LocalForwarder::Options options;
    options.target = target;
    options.timeoutMs = 5000;
    return options;
}

void forwardInto(LocalForwarder &forwarder, const HttpRequest &request, Answer &answer)
{
    forwarder.forward(request, [&answer](const HttpResponse &response, const RequestRecord &record) {
        answer.response = response;
        answer.record = record;
        ++answer.calls;
    });
}

QByteArray headerOf(const HttpResponse &response, const char *name)
{
    return keyhole::http::headerValue(response.headers, name);
}

const QByteArray kOkHello = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello";

// GET /one, then `next` once that is answered, through one forwarder: `next` is offered the
// connection the first request left kept alive. False when either went unanswered.
bool forwardAfterFirst(const Backend &backend, const HttpRequest &next, Answer &answer)
{
    Answer first;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/one", "r1"), first);
    if (!QTest::qWaitFor([&first] { return first.calls == 1; }))
        return false;
    forwardInto(forwarder, next, answer);
    return QTest::qWaitFor([&answer] { return answer.calls == 1; });
}

} // namespace

class TestLocalForwarder : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void passesStatusHeadersAndBody();
    void requestIsRewrittenForTheService();
    void hostHeader_data();
    void hostHeader();
    void repeatedSetCookieKept();
    void redirectIsPassedBackNotFollowed();
    void headHasNoBody();
    void chunkedResponseReassembled();
    void bodyUntilCloseIsComplete();
    void keepAliveReusesOneConnection();
    void staleKeepAliveRetriesIdempotentRequests_data();
    void staleKeepAliveRetriesIdempotentRequests();
    void staleKeepAliveDoesNotResendPost();
    void leftoverBytesOnAReusedConnection_data();
    void leftoverBytesOnAReusedConnection();
    void interimResponsesAreSkipped_data();
    void interimResponsesAreSkipped();
    void refusedConnectionIs502NamingTheAddress();
    void slowServiceIs504();
    void oversizeResponseIs502_data();
    void oversizeResponseIs502();
    void malformedResponseIs502();
    void invalidRequestIs400();
    void manyRequestsShareABoundedPool();
    void callbackNeverRunsInsideForward();
};

void TestLocalForwarder::passesStatusHeadersAndBody()
{
    Backend backend([](const QByteArray &, int, int) {
        return reply(QByteArray("HTTP/1.1 201 Created\r\nContent-Type: application/json\r\nX-Custom: a b\r\n"
                                "Connection: keep-alive, X-Secret\r\nX-Secret: hop\r\nKeep-Alive: timeout=5\r\n"
                                "Content-Length: 9\r\n\r\n")
                     + QByteArray("{\"a\":\"\0\"}", 9));
    });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    HttpRequest request = makeRequest("POST", "/api/items");
    request.body = "abcd";
    forwardInto(forwarder, request, answer);
    QTRY_COMPARE(answer.calls, 1);

    QCOMPARE(answer.response.id, QByteArray("r1"));
    QCOMPARE(answer.response.status, 201);
    QCOMPARE(answer.response.body, QByteArray("{\"a\":\"\0\"}", 9));
    QCOMPARE(headerOf(answer.response, "Content-Type"), QByteArray("application/json"));
    QCOMPARE(headerOf(answer.response, "X-Custom"), QByteArray("a b"));
    // Protocol 2: the length the service announced goes through; the proxy frames the body with it.
    QCOMPARE(headerOf(answer.response, "Content-Length"), QByteArray("9"));
    QVERIFY(!keyhole::http::hasHeader(answer.response.headers, "Connection"));
    QVERIFY(!keyhole::http::hasHeader(answer.response.headers, "Keep-Alive"));
    QVERIFY(!keyhole::http::hasHeader(answer.response.headers, "X-Secret"));

    QCOMPARE(answer.record.id, QByteArray("r1"));
    QCOMPARE(answer.record.method, QByteArray("POST"));
    QCOMPARE(answer.record.path, QByteArray("/api/items"));
    QCOMPARE(answer.record.status, 201);
    QCOMPARE(answer.record.bytesIn, qint64(4));
    QCOMPARE(answer.record.bytesOut, qint64(9));
    QCOMPARE(answer.record.requestBodyPreview, QByteArray("abcd"));
    QVERIFY(answer.record.error.isEmpty());
    QVERIFY(answer.record.durationMs >= 0);
}

void TestLocalForwarder::requestIsRewrittenForTheService()
{
    Backend backend([](const QByteArray &, int, int) { return reply(kOkHello); });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    HttpRequest request = makeRequest("PUT", "/a%20b/c");
    request.query = "x=1&y=%2F";
    request.headers += {{"Connection", "keep-alive, X-Drop"}, {"X-Drop", "1"},
                        {"Transfer-Encoding", "chunked"},     {"Content-Length", "999"},
                        {"Expect", "100-continue"},           {"Cookie", "a=1"},
                        {"Accept-Encoding", "gzip"}};
    request.body = QByteArray("line1\r\nline2");
    forwardInto(forwarder, request, answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 200);

    QCOMPARE(backend.requests.size(), 1);
    const QByteArray sent = backend.requests.first();
    QVERIFY2(sent.startsWith("PUT /a%20b/c?x=1&y=%2F HTTP/1.1\r\n"), sent.constData());
    const QByteArray head = sent.left(sent.indexOf("\r\n\r\n") + 2).toLower();
    QVERIFY(head.contains("\r\nhost: abc.tunnel.test\r\n"));
    QVERIFY(head.contains("\r\ncontent-length: 12\r\n"));
    QVERIFY(head.contains("\r\ncookie: a=1\r\n"));
    QVERIFY(head.contains("\r\naccept-encoding: gzip\r\n"));
    QVERIFY(!head.contains("transfer-encoding"));
    QVERIFY(!head.contains("x-drop"));
    QVERIFY(!head.contains("expect"));
    QVERIFY(!head.contains("999"));
    QVERIFY(sent.endsWith("\r\n\r\nline1\r\nline2"));
}

void TestLocalForwarder::hostHeader_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<bool>("visitorHost");
    QTest::addColumn<QString>("expected"); // %1 = backend port
    QTest::newRow("keep") << QString() << true << QStringLiteral("abc.tunnel.test");
    QTest::newRow("keep, none given") << QString() << false << QStringLiteral("127.0.0.1:%1");
    QTest::newRow("rewrite") << QStringLiteral("rewrite") << true << QStringLiteral("127.0.0.1:%1");
    QTest::newRow("literal") << QStringLiteral("app.local") << true << QStringLiteral("app.local");
}

void TestLocalForwarder::hostHeader()
{
    QFETCH(QString, mode);
    QFETCH(bool, visitorHost);
    QFETCH(QString, expected);
    Backend backend([](const QByteArray &, int, int) { return reply(kOkHello); });
    Answer answer;
    LocalForwarder::Options options = optionsFor(backend.url());
    options.hostHeader = mode;
    LocalForwarder forwarder(options);
    HttpRequest request = makeRequest("GET", "/");
    if (!visitorHost)
        keyhole::http::removeHeader(request.headers, "Host");
    forwardInto(forwarder, request, answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(backend.requests.size(), 1);
    expected.replace(QLatin1String("%1"), QString::number(backend.port()));
    const QByteArray wanted = "\r\nHost: " + expected.toUtf8() + "\r\n";
    QVERIFY2(backend.requests.first().contains(wanted), backend.requests.first().constData());
    QCOMPARE(backend.requests.first().count("Host:"), 1);
    // GET without a body gets no Content-Length.
    QVERIFY(!backend.requests.first().toLower().contains("content-length"));
}

void TestLocalForwarder::repeatedSetCookieKept()
{
    Backend backend([](const QByteArray &, int, int) {
        return reply("HTTP/1.1 200 OK\r\nSet-Cookie: a=1; Path=/\r\nX-Other: x\r\nSet-Cookie: b=2; HttpOnly\r\n"
                     "Content-Length: 0\r\n\r\n");
    });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/login"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QList<QByteArray> cookies;
    for (const auto &header : answer.response.headers) {
        if (keyhole::http::headerNameEquals(header.first, "Set-Cookie"))
            cookies.append(header.second);
    }
    QCOMPARE(cookies, (QList<QByteArray>{"a=1; Path=/", "b=2; HttpOnly"}));
    QVERIFY(answer.response.body.isEmpty());
}

void TestLocalForwarder::redirectIsPassedBackNotFollowed()
{
    Backend backend([](const QByteArray &, int, int) {
        return reply("HTTP/1.1 302 Found\r\nLocation: /elsewhere\r\nContent-Length: 3\r\n\r\nbye");
    });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/old"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 302);
    QCOMPARE(headerOf(answer.response, "Location"), QByteArray("/elsewhere"));
    QCOMPARE(answer.response.body, QByteArray("bye"));
    QCOMPARE(backend.requests.size(), 1);
}

void TestLocalForwarder::headHasNoBody()
{
    Backend backend([](const QByteArray &request, int, int) {
        if (request.startsWith("HEAD"))
            return reply("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\nContent-Length: 1234\r\n\r\n");
        return reply(kOkHello);
    });
    Answer head;
    Answer get;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("HEAD", "/page"), head);
    QTRY_COMPARE(head.calls, 1);
    QCOMPARE(head.response.status, 200);
    QVERIFY(head.response.body.isEmpty());
    QCOMPARE(headerOf(head.response, "Content-Type"), QByteArray("text/html"));
    QCOMPARE(headerOf(head.response, "Content-Length"), QByteArray("1234")); // what a GET would have given

    // The connection is still in step: the next response is parsed as its own.
    forwardInto(forwarder, makeRequest("GET", "/page", "r2"), get);
    QTRY_COMPARE(get.calls, 1);
    QCOMPARE(get.response.status, 200);
    QCOMPARE(get.response.body, QByteArray("hello"));
    QCOMPARE(backend.connections, 1);
}

void TestLocalForwarder::chunkedResponseReassembled()
{
    Backend backend([](const QByteArray &, int, int) {
        return reply("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\nContent-Type: text/plain\r\n\r\n"
                     "5\r\nhello\r\n6;ext=1\r\n world\r\n0\r\nX-Trailer: t\r\n\r\n");
    });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/stream"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 200);
    QCOMPARE(answer.response.body, QByteArray("hello world"));
    QVERIFY(!keyhole::http::hasHeader(answer.response.headers, "Transfer-Encoding"));
    QCOMPARE(headerOf(answer.response, "Content-Type"), QByteArray("text/plain"));
}

void TestLocalForwarder::bodyUntilCloseIsComplete()
{
    Backend backend([](const QByteArray &, int, int) {
        return reply("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall of it", true);
    });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 200);
    QCOMPARE(answer.response.body, QByteArray("all of it"));
    QTRY_COMPARE(forwarder.connectionCount(), 0);
}

void TestLocalForwarder::keepAliveReusesOneConnection()
{
    Backend backend([](const QByteArray &, int, int index) {
        const QByteArray body = "answer " + QByteArray::number(index);
        return reply("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    });
    Answer first;
    Answer second;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/one", "r1"), first);
    QTRY_COMPARE(first.calls, 1);
    forwardInto(forwarder, makeRequest("GET", "/two", "r2"), second);
    QTRY_COMPARE(second.calls, 1);
    QCOMPARE(first.response.body, QByteArray("answer 0"));
    QCOMPARE(second.response.body, QByteArray("answer 1"));
    QCOMPARE(second.response.id, QByteArray("r2"));
    QCOMPARE(backend.connections, 1);
    QCOMPARE(forwarder.connectionCount(), 1);
}

void TestLocalForwarder::staleKeepAliveRetriesIdempotentRequests_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::newRow("GET") << QByteArray("GET");
    QTest::newRow("PUT") << QByteArray("PUT");
    QTest::newRow("DELETE") << QByteArray("DELETE");
}

void TestLocalForwarder::staleKeepAliveRetriesIdempotentRequests()
{
    // The first connection answers once, then closes as the second request arrives (a keep-alive
    // timeout racing with the request). A request that is safe to repeat is replayed on a fresh
    // connection.
    QFETCH(QByteArray, method);
    Backend backend([](const QByteArray &, int connection, int index) -> Backend::Reply {
        if (connection == 0 && index == 1)
            return {QByteArray(), true, false};
        return reply(kOkHello);
    });
    Answer second;
    QVERIFY(forwardAfterFirst(backend, makeRequest(method, "/two", "r2"), second));
    QCOMPARE(second.response.status, 200);
    QCOMPARE(second.response.body, QByteArray("hello"));
    QCOMPARE(backend.connections, 2);
    QCOMPARE(backend.requests.size(), 3);
    QVERIFY(backend.requests.at(2).startsWith(method + " /two "));
}

void TestLocalForwarder::staleKeepAliveDoesNotResendPost()
{
    // The same race with a POST the service has already read: it may have acted on it, so it is not
    // sent a second time; the visitor gets 502 and decides.
    Backend backend([](const QByteArray &, int connection, int index) -> Backend::Reply {
        if (connection == 0 && index == 1)
            return {QByteArray(), true, false};
        return reply(kOkHello);
    });
    Answer second;
    HttpRequest post = makeRequest("POST", "/charge", "r2");
    post.body = "amount=10";
    QVERIFY(forwardAfterFirst(backend, post, second));
    QCOMPARE(second.response.status, 502);
    QCOMPARE(second.response.id, QByteArray("r2"));
    QCOMPARE(backend.requests.size(), 2);
    QVERIFY(backend.requests.at(1).startsWith("POST /charge "));
    QCOMPARE(backend.connections, 1);
}

void TestLocalForwarder::leftoverBytesOnAReusedConnection_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<int>("status");
    QTest::addColumn<int>("connections");
    QTest::newRow("GET is sent again on a fresh connection") << QByteArray("GET") << 200 << 2;
    QTest::newRow("POST is not sent twice") << QByteArray("POST") << 502 << 1;
}

void TestLocalForwarder::leftoverBytesOnAReusedConnection()
{
    // A service that writes a body after its answer to a HEAD (a do_HEAD that is its do_GET): the
    // next request on that connection meets the rest of the event stream before any response.
    QFETCH(QByteArray, method);
    QFETCH(int, status);
    QFETCH(int, connections);
    Backend backend([](const QByteArray &, int connection, int index) -> Backend::Reply {
        if (connection == 0 && index == 1)
            return reply("data: event 1\n\n");
        return reply(kOkHello);
    });
    Answer second;
    QVERIFY(forwardAfterFirst(backend, makeRequest(method, "/two", "r2"), second));
    QCOMPARE(second.response.status, status);
    QCOMPARE(backend.connections, connections);
    if (status == 200)
        QCOMPARE(second.response.body, QByteArray("hello"));
    else
        QVERIFY2(second.response.body.contains("invalid response"), second.response.body.constData());
}

void TestLocalForwarder::interimResponsesAreSkipped_data()
{
    QTest::addColumn<QList<QByteArray>>("writes");
    const QByteArray final = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nX-Final: yes\r\n\r\nhello";
    QTest::newRow("100 Continue") << QList<QByteArray>{"HTTP/1.1 100 Continue\r\n\r\n" + final};
    QTest::newRow("102 Processing") << QList<QByteArray>{"HTTP/1.1 102 Processing\r\n\r\n" + final};
    QTest::newRow("103 Early Hints") << QList<QByteArray>{
        "HTTP/1.1 103 Early Hints\r\nLink: </style.css>; rel=preload\r\n\r\n" + final};
    QTest::newRow("several, one write") << QList<QByteArray>{
        "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 102 Processing\r\n\r\n"
        "HTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n"
        + final};
    QTest::newRow("several, separate writes")
        << QList<QByteArray>{"HTTP/1.1 100 Continue\r\n\r\n", "HTTP/1.1 102 Processing\r\n\r\n",
                             "HTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n", final};
    QTest::newRow("split inside an interim")
        << QList<QByteArray>{"HTTP/1.1 103 Early", " Hints\r\nLink: </a.js>\r\n", "\r\n" + final};
}

void TestLocalForwarder::interimResponsesAreSkipped()
{
    // A raw service: interim answers first, each write on its own, then the real one.
    QFETCH(QList<QByteArray>, writes);
    QTcpServer service;
    QVERIFY(service.listen(QHostAddress::LocalHost, 0));
    int requestsSeen = 0;
    connect(&service, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *socket = service.nextPendingConnection();
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        auto buffer = std::make_shared<QByteArray>();
        connect(socket, &QTcpSocket::readyRead, socket, [socket, buffer, writes, &requestsSeen] {
            buffer->append(socket->readAll());
            if (!buffer->contains("\r\n\r\n"))
                return;
            buffer->clear();
            ++requestsSeen;
            for (const QByteArray &part : writes) {
                socket->write(part);
                socket->flush();
                socket->waitForBytesWritten(1000);
            }
        });
    });
    Answer answer;
    LocalForwarder forwarder(optionsFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(service.serverPort()))));
    forwardInto(forwarder, makeRequest("GET", "/slow"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 200);
    QCOMPARE(answer.response.body, QByteArray("hello"));
    QCOMPARE(headerOf(answer.response, "X-Final"), QByteArray("yes"));
    QVERIFY(headerOf(answer.response, "Link").isEmpty());
    // The connection is in step afterwards: a second request on it gets its own answer.
    Answer again;
    forwardInto(forwarder, makeRequest("GET", "/again", "r2"), again);
    QTRY_COMPARE(again.calls, 1);
    QCOMPARE(again.response.status, 200);
    QCOMPARE(requestsSeen, 2);
}

void TestLocalForwarder::refusedConnectionIs502NamingTheAddress()
{
    quint16 port = 0;
    {
        QTcpServer probe;
        QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
        port = probe.serverPort();
    }
    Answer answer;
    LocalForwarder forwarder(optionsFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))));
    forwardInto(forwarder, makeRequest("GET", "/"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 502);
    QCOMPARE(answer.response.id, QByteArray("r1"));
    const QByteArray expected = "keyhole: the local service at 127.0.0.1:" + QByteArray::number(port)
        + " refused the connection";
    QVERIFY2(answer.response.body.startsWith(expected), answer.response.body.constData());
    QVERIFY(headerOf(answer.response, "Content-Type").startsWith("text/plain"));
    QVERIFY(!answer.record.error.isEmpty());
    QCOMPARE(answer.record.status, 502);
}

void TestLocalForwarder::slowServiceIs504()
{
    Backend backend([](const QByteArray &, int, int) { return Backend::Reply{QByteArray(), false, true}; });
    Answer answer;
    LocalForwarder::Options options = optionsFor(backend.url());
    options.timeoutMs = 200;
    LocalForwarder forwarder(options);
    forwardInto(forwarder, makeRequest("GET", "/slow"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 504);
    QVERIFY(answer.response.body.contains("did not answer"));
    QCOMPARE(backend.requests.size(), 1);
    QTRY_COMPARE(forwarder.connectionCount(), 0); // a timed-out connection is not reused
}

void TestLocalForwarder::oversizeResponseIs502_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::newRow("content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\n")
            + QByteArray(100, 'x');
    QTest::newRow("chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           "a\r\n0123456789\r\na\r\n0123456789\r\n0\r\n\r\n");
    QTest::newRow("until close") << QByteArray("HTTP/1.1 200 OK\r\n\r\n") + QByteArray(64, 'y');
}

void TestLocalForwarder::oversizeResponseIs502()
{
    QFETCH(QByteArray, response);
    Backend backend([response](const QByteArray &, int, int) { return reply(response, true); });
    Answer answer;
    LocalForwarder::Options options = optionsFor(backend.url());
    options.maxResponseBodyBytes = 16;
    LocalForwarder forwarder(options);
    forwardInto(forwarder, makeRequest("GET", "/big"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 502);
    QVERIFY2(answer.response.body.contains("limit of 16 bytes"), answer.response.body.constData());
    QVERIFY(answer.response.body.size() < 200);
}

void TestLocalForwarder::malformedResponseIs502()
{
    Backend backend([](const QByteArray &, int, int) { return reply("SMTP ready\r\n\r\n", true); });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    forwardInto(forwarder, makeRequest("GET", "/"), answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 502);
}

void TestLocalForwarder::invalidRequestIs400()
{
    Backend backend([](const QByteArray &, int, int) { return reply(kOkHello); });
    Answer answer;
    LocalForwarder forwarder(optionsFor(backend.url()));
    HttpRequest request = makeRequest("GET", "/x HTTP/1.1\r\nX-Injected: 1\r\n");
    forwardInto(forwarder, request, answer);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 400);
    QCOMPARE(backend.connections, 0);

    Answer badHeader;
    request = makeRequest("GET", "/");
    request.headers.append(keyhole::protocol::Header("X-Evil", "a\r\nInjected: 1"));
    forwardInto(forwarder, request, badHeader);
    QTRY_COMPARE(badHeader.calls, 1);
    QCOMPARE(badHeader.response.status, 400);
    QCOMPARE(backend.connections, 0);
}

void TestLocalForwarder::manyRequestsShareABoundedPool()
{
    Backend backend([](const QByteArray &request, int, int) {
        const QByteArray path = request.mid(4, request.indexOf(" HTTP/") - 4);
        return reply("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(path.size()) + "\r\n\r\n" + path);
    });
    constexpr int kRequests = 20;
    QList<Answer> answers(kRequests);
    LocalForwarder::Options options = optionsFor(backend.url());
    options.maxConcurrent = 4;
    LocalForwarder forwarder(options);
    for (int i = 0; i < kRequests; ++i)
        forwardInto(forwarder, makeRequest("GET", "/item/" + QByteArray::number(i), QByteArray::number(i)), answers[i]);
    QVERIFY(QTest::qWaitFor([&] {
        for (const Answer &answer : answers) {
            if (answer.calls != 1)
                return false;
        }
        return true;
    }));
    for (int i = 0; i < kRequests; ++i) {
        QCOMPARE(answers[i].response.id, QByteArray::number(i));
        QCOMPARE(answers[i].response.body, "/item/" + QByteArray::number(i));
    }
    QVERIFY2(backend.maxOpen <= 4, qPrintable(QString::number(backend.maxOpen)));
    QVERIFY(forwarder.connectionCount() <= 4);
    QCOMPARE(forwarder.queuedCount(), 0);
    QCOMPARE(forwarder.runningCount(), 0);
}

void TestLocalForwarder::callbackNeverRunsInsideForward()
{
    Answer answer;
    LocalForwarder forwarder(optionsFor(QUrl(QStringLiteral("http://127.0.0.1:1"))));
    forwardInto(forwarder, makeRequest("GET", "bad path"), answer);
    QCOMPARE(answer.calls, 0);
    QTRY_COMPARE(answer.calls, 1);
    QCOMPARE(answer.response.status, 400);
}

QTEST_GUILESS_MAIN(TestLocalForwarder)
#include "TestLocalForwarder.moc"
