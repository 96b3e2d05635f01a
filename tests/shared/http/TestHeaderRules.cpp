#include "http/HeaderRules.h"
#include "http/HttpParser.h"
#include "http/HttpWriter.h"

#include <QtTest>

using namespace keyhole::http;

class TestHeaderRules : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void nameEquals_data();
    void nameEquals();
    void lookups();
    void tokens_data();
    void tokens();
    void hopByHop_data();
    void hopByHop();
    void removeHopByHopNamedByConnection();
    void forwardedUntrusted();
    void forwardedTrusted();
    void forwardedTrustedWithoutPriorHeaders();
    void clientAddressHeaders_data();
    void clientAddressHeaders();
    void reasonPhrases_data();
    void reasonPhrases();
    void writeResponseHead();
    void writeRequestHead();
    void writerDropsInjectedHeaders();
    void writerRoundTrip();
    void noBody_data();
    void noBody();
};

void TestHeaderRules::nameEquals_data()
{
    QTest::addColumn<QByteArray>("a");
    QTest::addColumn<QByteArray>("b");
    QTest::addColumn<bool>("equal");
    QTest::newRow("same") << QByteArray("Host") << QByteArray("Host") << true;
    QTest::newRow("case") << QByteArray("content-LENGTH") << QByteArray("Content-Length") << true;
    QTest::newRow("prefix") << QByteArray("Content") << QByteArray("Content-Length") << false;
    QTest::newRow("different") << QByteArray("Host") << QByteArray("Hose") << false;
    QTest::newRow("empty") << QByteArray() << QByteArray("") << true;
    // Only ASCII folds: '[' is not '{' although they differ by 0x20 as well.
    QTest::newRow("non-letters") << QByteArray("a[") << QByteArray("a{") << false;
}

void TestHeaderRules::nameEquals()
{
    QFETCH(QByteArray, a);
    QFETCH(QByteArray, b);
    QFETCH(bool, equal);
    QCOMPARE(headerNameEquals(a, b), equal);
    QCOMPARE(headerNameEquals(b, a), equal);
}

void TestHeaderRules::lookups()
{
    HeaderList headers = {{"Host", "a.example"}, {"set-cookie", "a=1"}, {"Empty", ""}, {"SET-COOKIE", "b=2"}};
    QCOMPARE(headerValue(headers, "host"), QByteArray("a.example"));
    QCOMPARE(headerValue(headers, "Set-Cookie"), QByteArray("a=1"));
    QVERIFY(headerValue(headers, "Missing").isNull());
    QVERIFY(!headerValue(headers, "empty").isNull());
    QVERIFY(headerValue(headers, "empty").isEmpty());
    QVERIFY(hasHeader(headers, "HOST"));
    QVERIFY(!hasHeader(headers, "Hos"));

    removeHeader(headers, "Set-Cookie");
    const HeaderList expected = {{"Host", "a.example"}, {"Empty", ""}};
    QCOMPARE(headers, expected);
}

void TestHeaderRules::tokens_data()
{
    QTest::addColumn<HeaderList>("headers");
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<QByteArray>("token");
    QTest::addColumn<bool>("found");
    QTest::newRow("single") << HeaderList{{"Connection", "upgrade"}} << QByteArray("Connection")
                            << QByteArray("Upgrade") << true;
    QTest::newRow("list") << HeaderList{{"connection", "keep-alive , Upgrade"}} << QByteArray("Connection")
                          << QByteArray("upgrade") << true;
    QTest::newRow("second header") << HeaderList{{"Connection", "keep-alive"}, {"Connection", "close"}}
                                   << QByteArray("connection") << QByteArray("close") << true;
    QTest::newRow("substring only") << HeaderList{{"Connection", "upgraded, xupgrade"}} << QByteArray("Connection")
                                    << QByteArray("upgrade") << false;
    QTest::newRow("other header") << HeaderList{{"Upgrade", "close"}} << QByteArray("Connection") << QByteArray("close")
                                  << false;
    QTest::newRow("expect") << HeaderList{{"Expect", "100-continue"}} << QByteArray("Expect")
                            << QByteArray("100-Continue") << true;
    QTest::newRow("empty elements") << HeaderList{{"Connection", ",, ,close,"}} << QByteArray("Connection")
                                    << QByteArray("close") << true;
}

void TestHeaderRules::tokens()
{
    QFETCH(HeaderList, headers);
    QFETCH(QByteArray, name);
    QFETCH(QByteArray, token);
    QFETCH(bool, found);
    QCOMPARE(headerHasToken(headers, name, token), found);
}

void TestHeaderRules::hopByHop_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("hop");
    for (const char *name : {"Connection", "keep-alive", "Proxy-Connection", "te", "Trailer", "TRANSFER-ENCODING",
                             "Upgrade", "Proxy-Authenticate", "proxy-authorization", "HTTP2-Settings"})
        QTest::newRow(name) << QByteArray(name) << true;
    for (const char *name :
         {"Host", "Content-Length", "Authorization", "Set-Cookie", "Trailers", "Upgrade-Insecure-Requests"})
        QTest::newRow(name) << QByteArray(name) << false;
}

void TestHeaderRules::hopByHop()
{
    QFETCH(QByteArray, name);
    QFETCH(bool, hop);
    QCOMPARE(isHopByHop(name), hop);
}

void TestHeaderRules::removeHopByHopNamedByConnection()
{
    HeaderList headers = {
        {"Host", "a.example"},
        {"Connection", "keep-alive, X-Secret-Hop"},
        {"x-secret-hop", "1"},
        {"Keep-Alive", "timeout=5"},
        {"Transfer-Encoding", "chunked"},
        {"connection", "X-Other"},
        {"X-Other", "2"},
        {"Content-Type", "text/plain"},
        {"Upgrade", "websocket"},
        {"Cookie", "c=1"},
    };
    removeHopByHop(headers);
    const HeaderList expected = {{"Host", "a.example"}, {"Content-Type", "text/plain"}, {"Cookie", "c=1"}};
    QCOMPARE(headers, expected);
}

void TestHeaderRules::forwardedUntrusted()
{
    HeaderList headers = {
        {"Host", "abc.tunnel.example"},       {"X-Forwarded-For", "6.6.6.6"}, {"x-forwarded-proto", "gopher"},
        {"X-Forwarded-Host", "evil.example"}, {"Forwarded", "for=6.6.6.6"},   {"X-FORWARDED-FOR", "7.7.7.7"},
    };
    applyForwardedHeaders(headers, QStringLiteral("203.0.113.9"), false, "https", "abc.tunnel.example");
    const HeaderList expected = {
        {"Host", "abc.tunnel.example"},
        {"X-Forwarded-For", "203.0.113.9"},
        {"X-Forwarded-Proto", "https"},
        {"X-Forwarded-Host", "abc.tunnel.example"},
    };
    QCOMPARE(headers, expected);
}

void TestHeaderRules::forwardedTrusted()
{
    HeaderList headers = {
        {"Host", "abc.tunnel.example"},        {"x-forwarded-for", "198.51.100.1"},  {"X-Forwarded-Proto", "http"},
        {"X-Forwarded-Host", "front.example"}, {"X-Forwarded-For", "198.51.100.2 "},
    };
    applyForwardedHeaders(headers, QStringLiteral("10.0.0.5"), true, "https", "abc.tunnel.example");
    QCOMPARE(headerValue(headers, "X-Forwarded-For"), QByteArray("198.51.100.1, 198.51.100.2, 10.0.0.5"));
    QCOMPARE(headerValue(headers, "X-Forwarded-Proto"), QByteArray("http"));
    QCOMPARE(headerValue(headers, "X-Forwarded-Host"), QByteArray("front.example"));
    int xffCount = 0;
    for (const auto &header : headers)
        xffCount += headerNameEquals(header.first, "x-forwarded-for") ? 1 : 0;
    QCOMPARE(xffCount, 1);
}

void TestHeaderRules::clientAddressHeaders_data()
{
    QTest::addColumn<QByteArray>("name");
    QTest::addColumn<bool>("trusted");
    QTest::addColumn<bool>("kept");
    for (const char *name : {"X-Real-IP", "x-real-ip", "X-Client-IP", "True-Client-IP", "X-Forwarded-Port",
                             "X-Forwarded-Prefix", "X-Forwarded-Server", "Forwarded"}) {
        QTest::newRow(QByteArray(name + QByteArray(", untrusted")).constData()) << QByteArray(name) << false << false;
        QTest::newRow(QByteArray(name + QByteArray(", trusted")).constData()) << QByteArray(name) << true << true;
    }
    // CGI-style servers read these as X-Real-IP / X-Forwarded-For: never passed on.
    for (const char *name : {"X_Real_IP", "X_Forwarded_For", "x-forwarded_proto"}) {
        QTest::newRow(QByteArray(name + QByteArray(", untrusted")).constData()) << QByteArray(name) << false << false;
        QTest::newRow(QByteArray(name + QByteArray(", trusted")).constData()) << QByteArray(name) << true << false;
    }
    QTest::newRow("unrelated underscore") << QByteArray("X_Custom") << false << true;
    QTest::newRow("X-Forwarded alone") << QByteArray("X-Forwarded") << false << true;
}

void TestHeaderRules::clientAddressHeaders()
{
    QFETCH(QByteArray, name);
    QFETCH(bool, trusted);
    QFETCH(bool, kept);
    HeaderList headers = {{"Host", "abc.tunnel.example"}, {name, "6.6.6.6"}};
    applyForwardedHeaders(headers, QStringLiteral("10.0.0.5"), trusted, "https", "abc.tunnel.example");
    QCOMPARE(headerValue(headers, name) == "6.6.6.6", kept);
    QCOMPARE(headerValue(headers, "X-Forwarded-For").endsWith("10.0.0.5"), true);
}

void TestHeaderRules::forwardedTrustedWithoutPriorHeaders()
{
    HeaderList headers = {{"Host", "abc.tunnel.example"}};
    applyForwardedHeaders(headers, QStringLiteral("::1"), true, "http", "abc.tunnel.example");
    QCOMPARE(headerValue(headers, "X-Forwarded-For"), QByteArray("::1"));
    QCOMPARE(headerValue(headers, "X-Forwarded-Proto"), QByteArray("http"));
    QCOMPARE(headerValue(headers, "X-Forwarded-Host"), QByteArray("abc.tunnel.example"));
}

void TestHeaderRules::reasonPhrases_data()
{
    QTest::addColumn<int>("status");
    QTest::addColumn<QByteArray>("reason");
    QTest::newRow("200") << 200 << QByteArray("OK");
    QTest::newRow("404") << 404 << QByteArray("Not Found");
    QTest::newRow("413") << 413 << QByteArray("Content Too Large");
    QTest::newRow("431") << 431 << QByteArray("Request Header Fields Too Large");
    QTest::newRow("502") << 502 << QByteArray("Bad Gateway");
    QTest::newRow("599") << 599 << QByteArray("Unknown");
}

void TestHeaderRules::reasonPhrases()
{
    QFETCH(int, status);
    QFETCH(QByteArray, reason);
    QCOMPARE(reasonPhrase(status), reason);
}

void TestHeaderRules::writeResponseHead()
{
    const HeaderList headers = {{"Content-Length", "5"}, {"Set-Cookie", "a=1"}, {"Set-Cookie", "b=2"}};
    QCOMPARE(responseHead(404, headers),
             QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 5\r\nSet-Cookie: a=1\r\nSet-Cookie: b=2\r\n\r\n"));
    QCOMPARE(responseHead(204, {}), QByteArray("HTTP/1.1 204 No Content\r\n\r\n"));
}

void TestHeaderRules::writeRequestHead()
{
    const HeaderList headers = {{"Host", "localhost:8080"}, {"Accept", "*/*"}};
    QCOMPARE(requestHead("GET", "/a?b=c", headers),
             QByteArray("GET /a?b=c HTTP/1.1\r\nHost: localhost:8080\r\nAccept: */*\r\n\r\n"));
}

void TestHeaderRules::writerDropsInjectedHeaders()
{
    const HeaderList headers = {
        {"X-Ok", "fine"}, {"X-Evil", "a\r\nSet-Cookie: stolen=1"}, {"Bad Name", "v"},
        {"", "v"},        {"X-Nul", QByteArray("a\0b", 3)},
    };
    QCOMPARE(responseHead(200, headers), QByteArray("HTTP/1.1 200 OK\r\nX-Ok: fine\r\n\r\n"));
}

void TestHeaderRules::writerRoundTrip()
{
    const HeaderList headers = {{"Host", "h"}, {"Content-Length", "3"}, {"X-Multi", "1"}, {"x-multi", "2"}};
    const QByteArray wire = requestHead("POST", "/submit?x=%20", headers) + "abc";
    HttpParser parser(HttpParser::Mode::Request, HttpParser::Limits());
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(wire.constData(), wire.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(parser.feed(wire.constData() + consumed, wire.size() - consumed, &consumed),
             HttpParser::Status::MessageComplete);
    QCOMPARE(parser.requestHead().method, QByteArray("POST"));
    QCOMPARE(parser.requestHead().target, QByteArray("/submit?x=%20"));
    QCOMPARE(parser.requestHead().headers, headers);
    QCOMPARE(parser.body(), QByteArray("abc"));
}

void TestHeaderRules::noBody_data()
{
    QTest::addColumn<QByteArray>("method");
    QTest::addColumn<int>("status");
    QTest::addColumn<bool>("noBody");
    QTest::newRow("GET 200") << QByteArray("GET") << 200 << false;
    QTest::newRow("HEAD 200") << QByteArray("HEAD") << 200 << true;
    QTest::newRow("GET 101") << QByteArray("GET") << 101 << true;
    QTest::newRow("POST 204") << QByteArray("POST") << 204 << true;
    QTest::newRow("GET 304") << QByteArray("GET") << 304 << true;
    QTest::newRow("GET 404") << QByteArray("GET") << 404 << false;
}

void TestHeaderRules::noBody()
{
    QFETCH(QByteArray, method);
    QFETCH(int, status);
    QFETCH(bool, noBody);
    QCOMPARE(responseHasNoBody(method, status), noBody);
}

QTEST_GUILESS_MAIN(TestHeaderRules)
#include "TestHeaderRules.moc"
