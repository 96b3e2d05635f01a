#include "http/HeaderRules.h"
#include "http/HttpParser.h"
#include "websocket/Handshake.h"

#include <QTest>

using namespace keyhole;
using namespace keyhole::websocket;

namespace {

const QByteArray kRfcKey = QByteArrayLiteral("dGhlIHNhbXBsZSBub25jZQ==");
// RFC 6455 1.3 (and Python hashlib agrees).
const QByteArray kRfcAccept = QByteArrayLiteral("s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");

http::RequestHead parseRequest(const QByteArray &bytes)
{
    http::HttpParser parser(http::HttpParser::Mode::Request, {});
    qsizetype consumed = 0;
    const auto status = parser.feed(bytes.constData(), bytes.size(), &consumed);
    if (status != http::HttpParser::Status::HeadComplete && status != http::HttpParser::Status::MessageComplete)
        qWarning() << "unparsed request" << bytes;
    return parser.requestHead();
}

http::ResponseHead parseResponse(const QByteArray &bytes, qsizetype *consumed = nullptr)
{
    http::HttpParser parser(http::HttpParser::Mode::Response, {});
    qsizetype used = 0;
    parser.feed(bytes.constData(), bytes.size(), &used);
    if (consumed)
        *consumed = used;
    return parser.responseHead();
}

QByteArray goodRequest(const QByteArray &extra = {})
{
    return "GET /proxy/subscribe HTTP/1.1\r\nHost: proxy.test\r\nUpgrade: websocket\r\nConnection: keep-alive, "
           "Upgrade\r\n"
           "Sec-WebSocket-Key: "
        + kRfcKey + "\r\nSec-WebSocket-Version: 13\r\n" + extra + "\r\n";
}

} // namespace

class TestWebSocketHandshake : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testRfcExampleAccept();
    void testGeneratedKeys();
    void testClientRequest_data();
    void testClientRequest();
    void testGoodServerResponse();
    void testBadServerResponses_data();
    void testBadServerResponses();
    void testResponseHeadEndsWhereFramesBegin();
    void testServerAcceptsValidRequest();
    void testServerNamesTheServicesSubprotocol_data();
    void testServerNamesTheServicesSubprotocol();
    void testServerRefusals_data();
    void testServerRefusals();
};

void TestWebSocketHandshake::testRfcExampleAccept()
{
    QCOMPARE(handshake::acceptFor(kRfcKey), kRfcAccept); // RFC 6455 1.3
}

void TestWebSocketHandshake::testGeneratedKeys()
{
    const QByteArray a = handshake::generateKey();
    const QByteArray b = handshake::generateKey();
    QCOMPARE(a.size(), 24);
    QCOMPARE(QByteArray::fromBase64(a).size(), 16);
    QVERIFY(a != b);
}

void TestWebSocketHandshake::testClientRequest_data()
{
    QTest::addColumn<QUrl>("url");
    QTest::addColumn<QByteArray>("target");
    QTest::addColumn<QByteArray>("host");
    QTest::newRow("ws default port") << QUrl("ws://proxy.test/proxy/subscribe") << QByteArray("/proxy/subscribe")
                                     << QByteArray("proxy.test");
    QTest::newRow("ws other port") << QUrl("ws://127.0.0.1:8080/proxy/subscribe") << QByteArray("/proxy/subscribe")
                                   << QByteArray("127.0.0.1:8080");
    QTest::newRow("wss default port") << QUrl("wss://proxy.test:443/a/proxy/subscribe?x=1")
                                      << QByteArray("/a/proxy/subscribe?x=1") << QByteArray("proxy.test");
    QTest::newRow("wss port 80") << QUrl("wss://proxy.test:80/") << QByteArray("/") << QByteArray("proxy.test:80");
    QTest::newRow("IPv6") << QUrl("ws://[::1]:9000") << QByteArray("/") << QByteArray("[::1]:9000");
}

void TestWebSocketHandshake::testClientRequest()
{
    QFETCH(QUrl, url);
    QFETCH(QByteArray, target);
    QFETCH(QByteArray, host);
    const QByteArray key = handshake::generateKey();
    const http::RequestHead head = parseRequest(handshake::clientRequest(url, key, "keyhole/1.2.3"));
    QCOMPARE(head.method, QByteArray("GET"));
    QCOMPARE(head.target, target);
    QCOMPARE(http::headerValue(head.headers, "Host"), host);
    QCOMPARE(http::headerValue(head.headers, "Upgrade"), QByteArray("websocket"));
    QVERIFY(http::headerHasToken(head.headers, "Connection", "upgrade"));
    QCOMPARE(http::headerValue(head.headers, "Sec-WebSocket-Key"), key);
    QCOMPARE(http::headerValue(head.headers, "Sec-WebSocket-Version"), QByteArray("13"));
    QCOMPARE(http::headerValue(head.headers, "User-Agent"), QByteArray("keyhole/1.2.3"));
    QVERIFY(!http::hasHeader(head.headers, "Sec-WebSocket-Extensions"));
    // And our own server side takes it.
    QCOMPARE(handshake::answerClientRequest(head).status, 101);
}

void TestWebSocketHandshake::testGoodServerResponse()
{
    const http::ResponseHead head = parseResponse("HTTP/1.1 101 Switching Protocols\r\nUpgrade: WebSocket\r\n"
                                                  "Connection: Upgrade\r\nSec-WebSocket-Accept: "
                                                  + kRfcAccept + "\r\n\r\n");
    QCOMPARE(handshake::checkServerResponse(head, kRfcKey), QString());
}

void TestWebSocketHandshake::testBadServerResponses_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<QString>("error");
    const QByteArray accept = "Sec-WebSocket-Accept: " + kRfcAccept + "\r\n";
    QTest::newRow("404") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 3\r\n\r\nno!") << "404 Not Found";
    QTest::newRow("200") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n") << "200 OK";
    QTest::newRow("no Upgrade") << "HTTP/1.1 101 Switching Protocols\r\nConnection: Upgrade\r\n" + accept + "\r\n"
                                << "101 without Upgrade: websocket";
    QTest::newRow("no Connection") << "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n" + accept + "\r\n"
                                   << "101 without Connection: upgrade";
    QTest::newRow("wrong accept") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                                "Connection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n")
                                  << "wrong Sec-WebSocket-Accept";
    QTest::newRow("no accept") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                             "Connection: Upgrade\r\n\r\n")
                               << "wrong Sec-WebSocket-Accept";
    QTest::newRow("extension not offered")
        << "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept
            + "Sec-WebSocket-Extensions: permessage-deflate\r\n\r\n"
        << "the server chose an extension that was not offered";
    QTest::newRow("subprotocol not offered")
        << "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n" + accept
            + "Sec-WebSocket-Protocol: chat\r\n\r\n"
        << "the server chose a subprotocol that was not offered";
}

void TestWebSocketHandshake::testBadServerResponses()
{
    QFETCH(QByteArray, response);
    QFETCH(QString, error);
    QCOMPARE(handshake::checkServerResponse(parseResponse(response), kRfcKey), error);
}

void TestWebSocketHandshake::testResponseHeadEndsWhereFramesBegin()
{
    // The server's first frame may come in the same segment as the 101: the parser must stop at the
    // head's end so the frame is not lost.
    const QByteArray head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: "
        + kRfcAccept + "\r\n\r\n";
    qsizetype consumed = 0;
    parseResponse(head + QByteArray::fromHex("820368656c"), &consumed);
    QCOMPARE(consumed, head.size());
}

void TestWebSocketHandshake::testServerAcceptsValidRequest()
{
    const auto answer = handshake::answerClientRequest(parseRequest(goodRequest()));
    QCOMPARE(answer.status, 101);
    QVERIFY(answer.error.isEmpty());
    const http::ResponseHead head = parseResponse(answer.bytes);
    QCOMPARE(head.status, 101);
    QCOMPARE(http::headerValue(head.headers, "Sec-WebSocket-Accept"), kRfcAccept);
    QCOMPARE(handshake::checkServerResponse(head, kRfcKey), QString());
}

void TestWebSocketHandshake::testServerNamesTheServicesSubprotocol_data()
{
    QTest::addColumn<QByteArray>("offered");
    QTest::addColumn<QByteArray>("chosen");
    QTest::addColumn<QByteArray>("answered");
    QTest::newRow("offered") << QByteArray("chat.v1, chat.v2") << QByteArray("chat.v2") << QByteArray("chat.v2");
    QTest::newRow("none chosen") << QByteArray("chat.v1") << QByteArray() << QByteArray();
    QTest::newRow("not offered") << QByteArray("chat.v1") << QByteArray("evil") << QByteArray();
    QTest::newRow("nothing offered") << QByteArray() << QByteArray("chat.v1") << QByteArray();
    QTest::newRow("not a token") << QByteArray("a") << QByteArray("a\r\nSet-Cookie: x=1") << QByteArray();
}

void TestWebSocketHandshake::testServerNamesTheServicesSubprotocol()
{
    QFETCH(QByteArray, offered);
    QFETCH(QByteArray, chosen);
    QFETCH(QByteArray, answered);
    const QByteArray extra = offered.isEmpty() ? QByteArray() : "Sec-WebSocket-Protocol: " + offered + "\r\n";
    const auto answer = handshake::answerClientRequest(parseRequest(goodRequest(extra)), chosen);
    QCOMPARE(answer.status, 101);
    const http::ResponseHead head = parseResponse(answer.bytes);
    QCOMPARE(head.status, 101);
    QCOMPARE(http::headerValue(head.headers, "Sec-WebSocket-Protocol"), answered);
    QCOMPARE(head.headers.size(), 3 + (answered.isEmpty() ? 0 : 1));
}

void TestWebSocketHandshake::testServerRefusals_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("status");
    QByteArray post = goodRequest();
    post.replace("GET", "POST");
    QByteArray noUpgrade = goodRequest();
    noUpgrade.replace("Upgrade: websocket\r\n", "Upgrade: h2c\r\n");
    QByteArray noConnection = goodRequest();
    noConnection.replace("Connection: keep-alive, Upgrade\r\n", "Connection: keep-alive\r\n");
    QByteArray version8 = goodRequest();
    version8.replace("Version: 13", "Version: 8");
    QByteArray shortKey = goodRequest();
    shortKey.replace(kRfcKey, "c2hvcnQ=");
    QByteArray badKey = goodRequest();
    badKey.replace(kRfcKey, "not base64 at all!!!!!!!");
    QByteArray noKey = goodRequest();
    noKey.replace("Sec-WebSocket-Key: " + kRfcKey + "\r\n", "");
    QByteArray http10 = goodRequest();
    http10.replace("HTTP/1.1", "HTTP/1.0");
    QTest::newRow("POST") << post << 400;
    QTest::newRow("HTTP/1.0") << http10 << 400;
    QTest::newRow("Upgrade not websocket") << noUpgrade << 426;
    QTest::newRow("Connection without upgrade") << noConnection << 400;
    QTest::newRow("version 8") << version8 << 426;
    QTest::newRow("key not 16 bytes") << shortKey << 400;
    QTest::newRow("key not base64") << badKey << 400;
    QTest::newRow("no key") << noKey << 400;
}

void TestWebSocketHandshake::testServerRefusals()
{
    QFETCH(QByteArray, request);
    QFETCH(int, status);
    const auto answer = handshake::answerClientRequest(parseRequest(request));
    QCOMPARE(answer.status, status);
    QVERIFY(!answer.error.isEmpty());
    const http::ResponseHead head = parseResponse(answer.bytes);
    QCOMPARE(head.status, status);
    QVERIFY(http::headerHasToken(head.headers, "Connection", "close"));
    if (status == 426)
        QCOMPARE(http::headerValue(head.headers, "Sec-WebSocket-Version"), QByteArray("13"));
    QVERIFY(answer.bytes.endsWith(answer.error.toUtf8() + '\n'));
}

QTEST_GUILESS_MAIN(TestWebSocketHandshake)
#include "TestWebSocketHandshake.moc"
