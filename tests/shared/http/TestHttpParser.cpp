#include "http/HeaderRules.h"
#include "http/HttpParser.h"

#include <QtTest>

#include <memory>

using namespace keyhole::http;

namespace {

struct Outcome {
    HttpParser::Status status = HttpParser::Status::NeedMore;
    qsizetype consumed = 0; // bytes of `data` that belong to the message
    int headCompletes = 0;
};

// Feeds `data` until the message completes, fails or everything is consumed, stepping over HeadComplete.
Outcome feedAll(HttpParser &parser, const QByteArray &data)
{
    Outcome out;
    while (true) {
        qsizetype consumed = -1;
        out.status = parser.feed(data.constData() + out.consumed, data.size() - out.consumed, &consumed);
        if (consumed >= 0)
            out.consumed += consumed;
        if (out.status != HttpParser::Status::HeadComplete)
            return out;
        ++out.headCompletes;
    }
}

HttpParser::Limits defaultLimits()
{
    return HttpParser::Limits();
}

} // namespace

class TestHttpParser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void simpleGet();
    void byteByByte_data();
    void byteByByte();
    void pipelined();
    void chunkedBody();
    void chunkedBodyOverLimit();
    void contentLengthBody();
    void contentLengthOverLimit();
    void raisedBodyLimit();
    void keepAlive_data();
    void keepAlive();
    void expectContinue();
    void upgrade();
    void repeatedHeadersKeepOrder();
    void headTooLarge();
    void headTooLargeAcrossFeeds();
    void tooManyHeaders();
    void urlTooLong();
    void malformed_data();
    void malformed();
    void smugglingRejected();
    void strictRefusal_data();
    void strictRefusal();
    void strictAccepted_data();
    void strictAccepted();
    void trailersNeverBecomeHeaders();
    void trailersCountAgainstLimits_data();
    void trailersCountAgainstLimits();
    void endlessTrailerHitsLimit();
    void absoluteFormAuthorityWins();
    void unknownUpgradeIsPlainHttp_data();
    void unknownUpgradeIsPlainHttp();
    void response();
    void responseNoBody_data();
    void responseNoBody();
    void chunkedResponse();
    void switchingProtocolsResponse();
    void eofDelimitedResponse();
    void truncatedResponse();
    void responseBodyOverLimit();
    void errorIsSticky();
    void bodyFromAByteArray_data();
    void bodyFromAByteArray();
    void headersShareASmallBuffer_data();
    void headersShareASmallBuffer();
};

void TestHttpParser::simpleGet()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req = "GET /a%20b/c?x=1&y=2 HTTP/1.1\r\nHost: abc.example.com\r\nUser-Agent:  test  \r\n\r\n";

    qsizetype consumed = 0;
    QCOMPARE(parser.feed(req.constData(), req.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(consumed, req.size());
    QVERIFY(parser.inMessage());
    const RequestHead &head = parser.requestHead();
    QCOMPARE(head.method, QByteArray("GET"));
    QCOMPARE(head.target, QByteArray("/a%20b/c?x=1&y=2"));
    QCOMPARE(head.path, QByteArray("/a%20b/c"));
    QCOMPARE(head.query, QByteArray("x=1&y=2"));
    QCOMPARE(head.versionMajor, 1);
    QCOMPARE(head.versionMinor, 1);
    QVERIFY(head.keepAlive);
    QVERIFY(!head.upgrade);
    QVERIFY(!head.expectContinue);
    QVERIFY(!head.chunked);
    QCOMPARE(head.contentLength, qint64(-1));
    QCOMPARE(head.headers.size(), 2);
    QCOMPARE(head.headers.at(0), qMakePair(QByteArray("Host"), QByteArray("abc.example.com")));
    QCOMPARE(head.headers.at(1), qMakePair(QByteArray("User-Agent"), QByteArray("test")));

    QCOMPARE(parser.feed(req.constData() + consumed, 0, &consumed), HttpParser::Status::MessageComplete);
    QCOMPARE(consumed, qsizetype(0));
    QVERIFY(parser.body().isEmpty());
    QVERIFY(!parser.inMessage());
    QCOMPARE(parser.error(), HttpParser::Error::None);
}

void TestHttpParser::byteByByte_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("get") << QByteArray("GET /path?q=1 HTTP/1.1\r\nHost: h\r\nX-Long-Header-Name: some value\r\n\r\n")
                         << QByteArray();
    QTest::newRow("content-length") << QByteArray(
        "POST /p HTTP/1.1\r\nHost: h\r\nContent-Length: 11\r\n\r\nhello world")
                                    << QByteArray("hello world");
    QTest::newRow("chunked") << QByteArray(
        "POST /p HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n6\r\n world\r\n0\r\n\r\n")
                             << QByteArray("hello world");
}

void TestHttpParser::byteByByte()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, body);

    // Every split position, then every byte on its own: the result must not depend on the buffers.
    for (qsizetype split = 0; split <= request.size() + 1; ++split) {
        HttpParser parser(HttpParser::Mode::Request, defaultLimits());
        qsizetype offset = 0;
        HttpParser::Status status = HttpParser::Status::NeedMore;
        int heads = 0;
        while (offset < request.size() || status == HttpParser::Status::HeadComplete) {
            // split == request.size() + 1 means one byte per call
            const qsizetype chunk = split > request.size()
                ? 1
                : (offset < split ? split - offset : request.size() - offset);
            qsizetype consumed = 0;
            status = parser.feed(request.constData() + offset, std::min(chunk, request.size() - offset), &consumed);
            QVERIFY2(status != HttpParser::Status::Error, qPrintable(parser.errorText()));
            offset += consumed;
            if (status == HttpParser::Status::HeadComplete)
                ++heads;
            if (status == HttpParser::Status::MessageComplete)
                break;
        }
        QCOMPARE(status, HttpParser::Status::MessageComplete);
        QCOMPARE(offset, request.size());
        QCOMPARE(heads, 1);
        QCOMPARE(parser.body(), body);
        QCOMPARE(parser.requestHead().headers.first(), qMakePair(QByteArray("Host"), QByteArray("h")));
        if (request.startsWith("GET"))
            QCOMPARE(parser.requestHead().headers.at(1),
                     qMakePair(QByteArray("X-Long-Header-Name"), QByteArray("some value")));
    }
}

void TestHttpParser::pipelined()
{
    const QByteArray r1 = "GET /one HTTP/1.1\r\nHost: h\r\n\r\n";
    const QByteArray r2 = "POST /two HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\n\r\nabc";
    const QByteArray r3 = "GET /three HTTP/1.1\r\nHost: h\r\n\r\n";
    const QByteArray all = r1 + r2 + r3;

    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    qsizetype offset = 0;
    const QList<QByteArray> paths = {"/one", "/two", "/three"};
    const QList<qsizetype> ends = {r1.size(), r1.size() + r2.size(), all.size()};
    for (int i = 0; i < 3; ++i) {
        const Outcome out = feedAll(parser, all.mid(offset));
        QCOMPARE(out.status, HttpParser::Status::MessageComplete);
        QCOMPARE(out.headCompletes, 1);
        offset += out.consumed;
        QCOMPARE(offset, ends.at(i));
        QCOMPARE(parser.requestHead().path, paths.at(i));
        QCOMPARE(parser.body(), i == 1 ? QByteArray("abc") : QByteArray());
        parser.reset();
    }
}

void TestHttpParser::chunkedBody()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req = "POST /upload HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n"
                           "4;ext=1\r\nWiki\r\n5\r\npedia\r\nE\r\n in\r\n\r\nchunks.\r\n0\r\nTrailer: x\r\n\r\n";
    const Outcome out = feedAll(parser, req);
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(out.consumed, req.size());
    QVERIFY(parser.requestHead().chunked);
    QCOMPARE(parser.requestHead().contentLength, qint64(-1));
    QCOMPARE(parser.body(), QByteArray("Wikipedia in\r\n\r\nchunks."));
    QCOMPARE(parser.takeBody(), QByteArray("Wikipedia in\r\n\r\nchunks."));
    QVERIFY(parser.body().isEmpty());
}

void TestHttpParser::chunkedBodyOverLimit()
{
    HttpParser::Limits limits;
    limits.maxBodyBytes = 8;
    HttpParser parser(HttpParser::Mode::Request, limits);
    const QByteArray req =
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n5\r\nworld\r\n0\r\n\r\n";
    const Outcome out = feedAll(parser, req);
    QCOMPARE(out.status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::BodyTooLarge);
    QVERIFY(!parser.errorText().isEmpty());
    QVERIFY(parser.body().size() <= 8);
}

void TestHttpParser::contentLengthBody()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray head = "PUT /x HTTP/1.1\r\nHost: h\r\nContent-Length: 10\r\n\r\n";
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(head.constData(), head.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(consumed, head.size());
    QCOMPARE(parser.requestHead().contentLength, qint64(10));
    QCOMPARE(parser.feed("01234", 5, &consumed), HttpParser::Status::NeedMore);
    QCOMPARE(consumed, qsizetype(5));
    QVERIFY(parser.inMessage());
    // More than the body: the rest is the next message's.
    QCOMPARE(parser.feed("56789GET", 8, &consumed), HttpParser::Status::MessageComplete);
    QCOMPARE(consumed, qsizetype(5));
    QCOMPARE(parser.body(), QByteArray("0123456789"));
}

void TestHttpParser::contentLengthOverLimit()
{
    HttpParser::Limits limits;
    limits.maxBodyBytes = 4;
    HttpParser parser(HttpParser::Mode::Request, limits);
    const QByteArray req = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    qsizetype consumed = 0;
    // The head comes first so the caller can answer 413 without reading the body.
    QCOMPARE(parser.feed(req.constData(), req.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(parser.requestHead().contentLength, qint64(5));
    QCOMPARE(parser.feed(req.constData() + consumed, req.size() - consumed, &consumed), HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::BodyTooLarge);
}

void TestHttpParser::raisedBodyLimit()
{
    HttpParser::Limits limits;
    limits.maxBodyBytes = 4;
    HttpParser parser(HttpParser::Mode::Request, limits);
    const QByteArray req = "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 5\r\n\r\nhello";
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(req.constData(), req.size(), &consumed), HttpParser::Status::HeadComplete);
    parser.setMaxBodyBytes(5);
    const qsizetype headSize = consumed;
    QCOMPARE(parser.feed(req.constData() + headSize, req.size() - headSize, &consumed),
             HttpParser::Status::MessageComplete);
    QCOMPARE(parser.body(), QByteArray("hello"));

    // reset() goes back to the constructor's limit.
    parser.reset();
    QCOMPARE(parser.feed(req.constData(), req.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(parser.feed(req.constData() + headSize, req.size() - headSize, &consumed), HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::BodyTooLarge);
}

void TestHttpParser::keepAlive_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<int>("minor");
    QTest::addColumn<bool>("keepAlive");
    QTest::newRow("1.1 default") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\r\n") << 1 << true;
    QTest::newRow("1.1 close") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nConnection: close\r\n\r\n") << 1 << false;
    QTest::newRow("1.0 default") << QByteArray("GET / HTTP/1.0\r\nHost: h\r\n\r\n") << 0 << false;
    QTest::newRow("1.0 keep-alive") << QByteArray("GET / HTTP/1.0\r\nConnection: Keep-Alive\r\n\r\n") << 0 << true;
}

void TestHttpParser::keepAlive()
{
    QFETCH(QByteArray, request);
    QFETCH(int, minor);
    QFETCH(bool, keepAlive);
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const Outcome out = feedAll(parser, request);
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(parser.requestHead().versionMajor, 1);
    QCOMPARE(parser.requestHead().versionMinor, minor);
    QCOMPARE(parser.requestHead().keepAlive, keepAlive);
}

void TestHttpParser::expectContinue()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req = "POST / HTTP/1.1\r\nHost: h\r\nExpect: 100-Continue\r\nContent-Length: 3\r\n\r\n";
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(req.constData(), req.size(), &consumed), HttpParser::Status::HeadComplete);
    QVERIFY(parser.requestHead().expectContinue);
    // The body arrives only after the caller's 100 Continue.
    QCOMPARE(parser.feed(nullptr, 0, &consumed), HttpParser::Status::NeedMore);
    QCOMPARE(parser.feed("abc", 3, &consumed), HttpParser::Status::MessageComplete);
    QCOMPARE(parser.body(), QByteArray("abc"));
}

void TestHttpParser::upgrade()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req = "GET /chat HTTP/1.1\r\nHost: h\r\nUpgrade: websocket\r\nConnection: keep-alive, Upgrade\r\n"
                           "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n";
    const QByteArray frame = QByteArray::fromHex("818537fa213d7f9f4d5158");
    const QByteArray all = req + frame;
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(all.constData(), all.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(consumed, req.size());
    QVERIFY(parser.requestHead().upgrade);
    QVERIFY(headerHasToken(parser.requestHead().headers, "connection", "upgrade"));
    QCOMPARE(parser.feed(all.constData() + req.size(), frame.size(), &consumed), HttpParser::Status::MessageComplete);
    // The WebSocket bytes are not part of the HTTP message.
    QCOMPARE(consumed, qsizetype(0));
    QVERIFY(parser.body().isEmpty());

    // A plain request is no upgrade, even with an Upgrade header alone.
    HttpParser plain(HttpParser::Mode::Request, defaultLimits());
    QCOMPARE(feedAll(plain, "GET / HTTP/1.1\r\nUpgrade: websocket\r\n\r\n").status,
             HttpParser::Status::MessageComplete);
    QVERIFY(!plain.requestHead().upgrade);
}

void TestHttpParser::repeatedHeadersKeepOrder()
{
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    const QByteArray resp = "HTTP/1.1 200 OK\r\nSet-Cookie: a=1\r\nX-Other: y\r\nset-cookie: b=2\r\nSet-Cookie: c=3\r\n"
                            "Empty:\r\nContent-Length: 0\r\n\r\n";
    QCOMPARE(feedAll(parser, resp).status, HttpParser::Status::MessageComplete);
    const HeaderList expected = {{"Set-Cookie", "a=1"}, {"X-Other", "y"}, {"set-cookie", "b=2"},
                                 {"Set-Cookie", "c=3"}, {"Empty", ""},    {"Content-Length", "0"}};
    QCOMPARE(parser.responseHead().headers, expected);
}

void TestHttpParser::headTooLarge()
{
    HttpParser::Limits limits;
    limits.maxHeadBytes = 64;
    HttpParser parser(HttpParser::Mode::Request, limits);
    const QByteArray req = "GET / HTTP/1.1\r\nHost: h\r\nX-Big: " + QByteArray(100, 'a') + "\r\n\r\n";
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(req.constData(), req.size(), &consumed), HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::HeadTooLarge);

    // Exactly at the limit is fine.
    const QByteArray fits = "GET / HTTP/1.1\r\nX: " + QByteArray(64 - 23, 'b') + "\r\n\r\n";
    QCOMPARE(fits.size(), qsizetype(64));
    HttpParser ok(HttpParser::Mode::Request, limits);
    QCOMPARE(feedAll(ok, fits).status, HttpParser::Status::MessageComplete);
}

void TestHttpParser::headTooLargeAcrossFeeds()
{
    HttpParser::Limits limits;
    limits.maxHeadBytes = 100;
    HttpParser parser(HttpParser::Mode::Request, limits);
    qsizetype consumed = 0;
    const QByteArray start = "GET / HTTP/1.1\r\n";
    QCOMPARE(parser.feed(start.constData(), start.size(), &consumed), HttpParser::Status::NeedMore);
    const QByteArray line = "X-A: 0123456789\r\n";
    HttpParser::Status status = HttpParser::Status::NeedMore;
    for (int i = 0; i < 10 && status == HttpParser::Status::NeedMore; ++i)
        status = parser.feed(line.constData(), line.size(), &consumed);
    QCOMPARE(status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::HeadTooLarge);
}

void TestHttpParser::tooManyHeaders()
{
    HttpParser::Limits limits;
    limits.maxHeaders = 3;
    QByteArray req = "GET / HTTP/1.1\r\n";
    for (int i = 0; i < 3; ++i)
        req += "X-" + QByteArray::number(i) + ": v\r\n";
    HttpParser ok(HttpParser::Mode::Request, limits);
    QCOMPARE(feedAll(ok, req + "\r\n").status, HttpParser::Status::MessageComplete);

    HttpParser parser(HttpParser::Mode::Request, limits);
    QCOMPARE(feedAll(parser, req + "X-3: v\r\n\r\n").status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::TooManyHeaders);
}

void TestHttpParser::urlTooLong()
{
    HttpParser::Limits limits;
    limits.maxUrlBytes = 32;
    HttpParser ok(HttpParser::Mode::Request, limits);
    QCOMPARE(feedAll(ok, "GET /" + QByteArray(31, 'a') + " HTTP/1.1\r\n\r\n").status,
             HttpParser::Status::MessageComplete);

    HttpParser parser(HttpParser::Mode::Request, limits);
    const QByteArray req = "GET /" + QByteArray(32, 'a') + " HTTP/1.1\r\n\r\n";
    // Byte by byte too: the URL arrives in pieces.
    HttpParser::Status status = HttpParser::Status::NeedMore;
    for (qsizetype i = 0; i < req.size() && status == HttpParser::Status::NeedMore; ++i) {
        qsizetype consumed = 0;
        status = parser.feed(req.constData() + i, 1, &consumed);
    }
    QCOMPARE(status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::UrlTooLong);
}

void TestHttpParser::malformed_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::newRow("garbage") << QByteArray("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03", 11);
    QTest::newRow("bad method") << QByteArray("G@T / HTTP/1.1\r\n\r\n");
    QTest::newRow("no version") << QByteArray("GET / \r\n\r\n");
    QTest::newRow("bad version") << QByteArray("GET / HTTP/x.y\r\n\r\n");
    QTest::newRow("space in header name") << QByteArray("GET / HTTP/1.1\r\nBad Name: v\r\n\r\n");
    QTest::newRow("space before colon") << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n");
    QTest::newRow("bare CR in value") << QByteArray("GET / HTTP/1.1\r\nX: a\rb\r\n\r\n");
    QTest::newRow("HTTP/0.9") << QByteArray("GET /\r\n\r\n");
    QTest::newRow("HTTP/2 preface") << QByteArray("PRI * HTTP/2.0\r\n\r\nSM\r\n\r\n");
    QTest::newRow("bad content-length") << QByteArray("POST / HTTP/1.1\r\nContent-Length: 1x\r\n\r\n");
    QTest::newRow("bad chunk size") << QByteArray("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n");
}

void TestHttpParser::malformed()
{
    QFETCH(QByteArray, request);
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    QCOMPARE(feedAll(parser, request).status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::Malformed);
    QVERIFY(!parser.errorText().isEmpty());
}

void TestHttpParser::smugglingRejected()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req =
        "POST / HTTP/1.1\r\nHost: h\r\nContent-Length: 3\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n";
    QCOMPARE(feedAll(parser, req).status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::Malformed);
}

namespace {
// Feeds one byte per call, stepping over HeadComplete: the verdict must not depend on the buffers.
Outcome feedByteByByte(HttpParser &parser, const QByteArray &data)
{
    Outcome out;
    while (out.consumed < data.size()) {
        qsizetype consumed = 0;
        out.status = parser.feed(data.constData() + out.consumed, 1, &consumed);
        out.consumed += consumed;
        if (out.status == HttpParser::Status::HeadComplete) {
            ++out.headCompletes;
            out.status = parser.feed(data.constData() + out.consumed, 0, &consumed);
        }
        if (out.status == HttpParser::Status::Error || out.status == HttpParser::Status::MessageComplete)
            return out;
    }
    return out;
}

const QByteArray kChunkedHead = "POST / HTTP/1.1\r\nHost: h\r\nTransfer-Encoding: chunked\r\n\r\n";
} // namespace

void TestHttpParser::strictRefusal_data()
{
    // Everything here is something a lenient server behind the proxy might read differently from
    // us (where the request ends, which header it is): refused, never forwarded.
    QTest::addColumn<QByteArray>("request");
    // Chunked framing.
    QTest::newRow("chunk data without CRLF") << kChunkedHead + "3\r\nabcXX0\r\n\r\n";
    QTest::newRow("chunk data then LF only") << kChunkedHead + "3\r\nabc\n0\r\n\r\n";
    QTest::newRow("chunk data then CR only") << kChunkedHead + "3\r\nabc\r0\r\n\r\n";
    QTest::newRow("chunk size overflow") << kChunkedHead + "10000000000000003\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size 2^64 wraps") << kChunkedHead + "10000000000000000\r\n0\r\n\r\n";
    QTest::newRow("chunk size leading space") << kChunkedHead + " 3\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size leading 0x") << kChunkedHead + "0x3\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size leading +") << kChunkedHead + "+3\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size trailing space") << kChunkedHead + "3 \r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size trailing junk") << kChunkedHead + "3g\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size empty") << kChunkedHead + "\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size LF only") << kChunkedHead + "3\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk size bare CR") << kChunkedHead + "3\rabc\r\n0\r\n\r\n";
    QTest::newRow("chunk ext empty name") << kChunkedHead + "3;\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk ext empty value") << kChunkedHead + "3;a=\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk ext bad char") << kChunkedHead
            + "3;a\x01"
              "b\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk ext unterminated quote") << kChunkedHead + "3;a=\"b\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("chunk ext LF inside") << kChunkedHead + "3;a=b\nc\r\nabc\r\n0\r\n\r\n";
    QTest::newRow("last chunk then LF only") << kChunkedHead + "0\r\n\n";
    QTest::newRow("trailer obs-fold") << kChunkedHead + "0\r\nX-T: a\r\n b\r\n\r\n";
    QTest::newRow("trailer bare LF") << kChunkedHead + "0\r\nX-T: a\n\r\n";
    QTest::newRow("trailer bad name") << kChunkedHead + "0\r\nX T: a\r\n\r\n";
    QTest::newRow("trailer without colon") << kChunkedHead + "0\r\nX-T\r\n\r\n";
    QTest::newRow("trailer NUL") << kChunkedHead + QByteArray("0\r\nX-T: a\0b\r\n\r\n", 15);
    // Line endings and folding in the head.
    QTest::newRow("obs-fold") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n b\r\n\r\n");
    QTest::newRow("obs-fold with tab") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\r\n\tb\r\n\r\n");
    QTest::newRow("space before first header") << QByteArray("GET / HTTP/1.1\r\n Host: h\r\n\r\n");
    QTest::newRow("bare LF between headers") << QByteArray("GET / HTTP/1.1\r\nHost: h\nX-A: a\r\n\r\n");
    QTest::newRow("bare LF ends request line") << QByteArray("GET / HTTP/1.1\nHost: h\r\n\r\n");
    QTest::newRow("bare LF ends head") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\n");
    QTest::newRow("bare CR in request line") << QByteArray("GET /\ra HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("bare CR ends head") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n\rX");
    QTest::newRow("NUL in value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\0b\r\n\r\n", 35);
    QTest::newRow("NUL in name") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX\0A: a\r\n\r\n", 33);
    QTest::newRow("control char in value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x01"
                                                         "b\r\n\r\n");
    QTest::newRow("DEL in value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-A: a\x7f"
                                                "b\r\n\r\n");
    // The request target.
    QTest::newRow("target tab") << QByteArray("GET /a\tb HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("target control") << QByteArray("GET /a\x01"
                                                  "b HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("target DEL") << QByteArray("GET /a\x7f"
                                              "b HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("target 8-bit") << QByteArray("GET /caf\xc3\xa9 HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("target 8-bit in query") << QByteArray("GET /?q=\xff HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("target not origin-form") << QByteArray("GET index.html HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("asterisk-form not OPTIONS") << QByteArray("GET * HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("absolute-form with userinfo") << QByteArray("GET http://u@h/ HTTP/1.1\r\nHost: h\r\n\r\n");
    QTest::newRow("absolute-form empty authority") << QByteArray("GET http:///x HTTP/1.1\r\nHost: h\r\n\r\n");
    // Header names.
    QTest::newRow("name with slash") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX/A: a\r\n\r\n");
    QTest::newRow("name with 8-bit") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX\xc3\xa9: a\r\n\r\n");
    QTest::newRow("empty name") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\n: a\r\n\r\n");
    QTest::newRow("Transfer_Encoding") << QByteArray(
        "POST / HTTP/1.1\r\nHost: h\r\nTransfer_Encoding: chunked\r\n\r\n");
    QTest::newRow("content_length") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\ncontent_length: 3\r\n\r\nabc");
    // Host.
    QTest::newRow("two Hosts") << QByteArray("GET / HTTP/1.1\r\nHost: a.example\r\nHost: b.example\r\n\r\n");
    QTest::newRow("two Hosts, same value") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nhost: h\r\n\r\n");
    QTest::newRow("Host list") << QByteArray("GET / HTTP/1.1\r\nHost: a.example, b.example\r\n\r\n");
    QTest::newRow("Host userinfo") << QByteArray("GET / HTTP/1.1\r\nHost: user@a.example\r\n\r\n");
    QTest::newRow("Host with space") << QByteArray("GET / HTTP/1.1\r\nHost: a.example b\r\n\r\n");
    QTest::newRow("Host with slash") << QByteArray("GET / HTTP/1.1\r\nHost: a.example/x\r\n\r\n");
}

void TestHttpParser::strictRefusal()
{
    QFETCH(QByteArray, request);
    HttpParser whole(HttpParser::Mode::Request, defaultLimits());
    const Outcome out = feedAll(whole, request);
    QCOMPARE(out.status, HttpParser::Status::Error);
    QCOMPARE(whole.error(), HttpParser::Error::Malformed);
    QVERIFY(!whole.errorText().isEmpty());

    HttpParser bytewise(HttpParser::Mode::Request, defaultLimits());
    QCOMPARE(feedByteByByte(bytewise, request).status, HttpParser::Status::Error);
    QCOMPARE(bytewise.error(), HttpParser::Error::Malformed);
}

void TestHttpParser::strictAccepted_data()
{
    // The strict checks must not refuse what RFC 9112 allows.
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("chunk ext token") << kChunkedHead + "3;name=value\r\nabc\r\n0\r\n\r\n" << QByteArray("abc");
    QTest::newRow("chunk ext quoted") << kChunkedHead + "3;a=\"x; y\";b\r\nabc\r\n0;z\r\n\r\n" << QByteArray("abc");
    QTest::newRow("chunk size leading zeros") << kChunkedHead + "0003\r\nabc\r\n000\r\n\r\n" << QByteArray("abc");
    QTest::newRow("chunk size upper hex") << kChunkedHead + "A\r\n0123456789\r\n0\r\n\r\n" << QByteArray("0123456789");
    QTest::newRow("trailer") << kChunkedHead + "3\r\nabc\r\n0\r\nX-Sum: 1\r\nX-B:\t2 \r\n\r\n" << QByteArray("abc");
    QTest::newRow("empty line before request") << QByteArray("\r\nGET / HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray();
    QTest::newRow("obs-text and tab in value")
        << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX-A: caf\xc3\xa9\tb\r\n\r\n") << QByteArray();
    QTest::newRow("percent-encoded target")
        << QByteArray("GET /caf%C3%A9?q=%FF&r=[1]|~ HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray();
    QTest::newRow("OPTIONS *") << QByteArray("OPTIONS * HTTP/1.1\r\nHost: h\r\n\r\n") << QByteArray();
    QTest::newRow("Host with port") << QByteArray("GET / HTTP/1.1\r\nHost: a.example:8080\r\n\r\n") << QByteArray();
    QTest::newRow("Host IPv6") << QByteArray("GET / HTTP/1.1\r\nHost: [::1]:8080\r\n\r\n") << QByteArray();
    QTest::newRow("underscore elsewhere")
        << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nX_Custom: 1\r\n\r\n") << QByteArray();
    QTest::newRow("HTTP/1.0 without Host") << QByteArray("GET / HTTP/1.0\r\n\r\n") << QByteArray();
}

void TestHttpParser::strictAccepted()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, body);
    HttpParser whole(HttpParser::Mode::Request, defaultLimits());
    const Outcome out = feedAll(whole, request);
    QVERIFY2(out.status == HttpParser::Status::MessageComplete, qPrintable(whole.errorText()));
    QCOMPARE(out.consumed, request.size());
    QCOMPARE(whole.body(), body);

    HttpParser bytewise(HttpParser::Mode::Request, defaultLimits());
    const Outcome byByte = feedByteByByte(bytewise, request);
    QVERIFY2(byByte.status == HttpParser::Status::MessageComplete, qPrintable(bytewise.errorText()));
    QCOMPARE(byByte.consumed, request.size());
    QCOMPARE(bytewise.body(), body);
}

void TestHttpParser::trailersNeverBecomeHeaders()
{
    // A trailer is read and dropped: it never joins the head that goes to the service.
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req = kChunkedHead
        + "3\r\nabc\r\n0\r\nHost: evil.example\r\nX-Forwarded-For: 10.0.0.1\r\nX-Sum: 1\r\n\r\n";
    const QByteArray next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    const Outcome out = feedAll(parser, req + next);
    QVERIFY2(out.status == HttpParser::Status::MessageComplete, qPrintable(parser.errorText()));
    QCOMPARE(out.consumed, req.size());
    QCOMPARE(parser.body(), QByteArray("abc"));
    const HeaderList expected = {{"Host", "h"}, {"Transfer-Encoding", "chunked"}};
    QCOMPARE(parser.requestHead().headers, expected);

    // Framing headers as trailers: llhttp refuses some of these itself; either way none is kept.
    for (const QByteArray &trailer : {QByteArray("Transfer-Encoding: gzip"), QByteArray("Content-Length: 5")}) {
        HttpParser framing(HttpParser::Mode::Request, defaultLimits());
        const Outcome o = feedAll(framing, kChunkedHead + "3\r\nabc\r\n0\r\n" + trailer + "\r\n\r\n");
        QVERIFY(o.status == HttpParser::Status::MessageComplete || o.status == HttpParser::Status::Error);
        QCOMPARE(framing.requestHead().headers, expected);
    }
}

void TestHttpParser::trailersCountAgainstLimits_data()
{
    QTest::addColumn<int>("trailers");
    QTest::addColumn<int>("valueBytes");
    QTest::addColumn<int>("error"); // HttpParser::Error, None when it must pass
    // The head has 2 headers and is 56 bytes; the limits are 5 headers and 200 bytes in all.
    QTest::newRow("within both") << 3 << 10 << int(HttpParser::Error::None);
    QTest::newRow("one field too many") << 4 << 1 << int(HttpParser::Error::TooManyHeaders);
    QTest::newRow("too many bytes") << 1 << 160 << int(HttpParser::Error::HeadTooLarge);
}

void TestHttpParser::trailersCountAgainstLimits()
{
    QFETCH(int, trailers);
    QFETCH(int, valueBytes);
    QFETCH(int, error);
    HttpParser::Limits limits;
    limits.maxHeaders = 5;
    limits.maxHeadBytes = 200;
    QByteArray req = kChunkedHead + "3\r\nabc\r\n0\r\n";
    for (int i = 0; i < trailers; ++i)
        req += "X-T" + QByteArray::number(i) + ": " + QByteArray(valueBytes, 'v') + "\r\n";
    req += "\r\n";
    HttpParser parser(HttpParser::Mode::Request, limits);
    const Outcome out = feedAll(parser, req);
    if (error == int(HttpParser::Error::None)) {
        QVERIFY2(out.status == HttpParser::Status::MessageComplete, qPrintable(parser.errorText()));
        return;
    }
    QCOMPARE(out.status, HttpParser::Status::Error);
    QCOMPARE(int(parser.error()), error);
}

void TestHttpParser::endlessTrailerHitsLimit()
{
    HttpParser::Limits limits;
    limits.maxHeadBytes = 1024;
    HttpParser parser(HttpParser::Mode::Request, limits);
    const QByteArray start = kChunkedHead + "0\r\nX-Endless: ";
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(start.constData(), start.size(), &consumed), HttpParser::Status::HeadComplete);
    const QByteArray rest = start.mid(consumed);
    QCOMPARE(parser.feed(rest.constData(), rest.size(), &consumed), HttpParser::Status::NeedMore);
    const QByteArray piece(256, 'x');
    HttpParser::Status status = HttpParser::Status::NeedMore;
    int pieces = 0;
    while (status == HttpParser::Status::NeedMore && pieces < 100) {
        status = parser.feed(piece.constData(), piece.size(), &consumed);
        ++pieces;
    }
    QCOMPARE(status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::HeadTooLarge);
    QVERIFY(pieces <= 5);
}

void TestHttpParser::absoluteFormAuthorityWins()
{
    // RFC 9112 3.2.2: the target's authority replaces Host, so routing and the service agree.
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray req = "GET HTTP://Label.Example.com:8080/a/b?x=1 HTTP/1.1\r\nHost: other.example\r\n\r\n";
    QCOMPARE(feedAll(parser, req).status, HttpParser::Status::MessageComplete);
    const RequestHead &head = parser.requestHead();
    QCOMPARE(head.path, QByteArray("/a/b"));
    QCOMPARE(head.query, QByteArray("x=1"));
    QCOMPARE(headerValue(head.headers, "Host"), QByteArray("Label.Example.com:8080"));
    QCOMPARE(head.headers.size(), 1);

    HttpParser noPath(HttpParser::Mode::Request, defaultLimits());
    QCOMPARE(feedAll(noPath, "GET http://a.example?q HTTP/1.1\r\n\r\n").status, HttpParser::Status::MessageComplete);
    QCOMPARE(noPath.requestHead().path, QByteArray("/"));
    QCOMPARE(noPath.requestHead().query, QByteArray("q"));
    QCOMPARE(headerValue(noPath.requestHead().headers, "Host"), QByteArray("a.example"));

    // The Host added for an absolute-form target counts against the header limit.
    HttpParser::Limits limits;
    limits.maxHeaders = 2;
    HttpParser full(HttpParser::Mode::Request, limits);
    QCOMPARE(feedAll(full, "GET http://a.example/ HTTP/1.1\r\nA: 1\r\nB: 2\r\n\r\n").status, HttpParser::Status::Error);
    QCOMPARE(full.error(), HttpParser::Error::TooManyHeaders);
}

void TestHttpParser::unknownUpgradeIsPlainHttp_data()
{
    QTest::addColumn<QByteArray>("request");
    QTest::addColumn<QByteArray>("body");
    QTest::newRow("h2c") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                                       "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n\r\n")
                         << QByteArray();
    QTest::newRow("h2c with body") << QByteArray("POST / HTTP/1.1\r\nHost: h\r\nConnection: Upgrade, HTTP2-Settings\r\n"
                                                 "Upgrade: h2c\r\nHTTP2-Settings: AAMAAABkAAQCAAAAAAIAAAAA\r\n"
                                                 "Content-Length: 3\r\n\r\nabc")
                                   << QByteArray("abc");
    QTest::newRow("tls") << QByteArray("GET / HTTP/1.1\r\nHost: h\r\nConnection: upgrade\r\nUpgrade: TLS/1.0\r\n\r\n")
                         << QByteArray();
}

void TestHttpParser::unknownUpgradeIsPlainHttp()
{
    QFETCH(QByteArray, request);
    QFETCH(QByteArray, body);
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    const QByteArray next = "GET /next HTTP/1.1\r\nHost: h\r\n\r\n";
    const Outcome out = feedAll(parser, request + next);
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(out.consumed, request.size());
    QVERIFY(!parser.requestHead().upgrade);
    QVERIFY(parser.requestHead().keepAlive);
    QCOMPARE(parser.body(), body);
    // The connection goes on with HTTP/1.1.
    parser.reset();
    QCOMPARE(feedAll(parser, next).status, HttpParser::Status::MessageComplete);
    QCOMPARE(parser.requestHead().path, QByteArray("/next"));
}

void TestHttpParser::response()
{
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    const QByteArray resp = "HTTP/1.1 404 Not Found\r\nContent-Type: text/plain\r\nContent-Length: 4\r\n\r\nnope";
    const Outcome out = feedAll(parser, resp);
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(out.consumed, resp.size());
    QCOMPARE(out.headCompletes, 1);
    QCOMPARE(parser.responseHead().status, 404);
    QCOMPARE(parser.responseHead().reason, QByteArray("Not Found"));
    QCOMPARE(parser.responseHead().contentLength, qint64(4));
    QVERIFY(parser.responseHead().keepAlive);
    QCOMPARE(parser.body(), QByteArray("nope"));

    // Same connection, next response.
    parser.reset();
    QCOMPARE(feedAll(parser, "HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok").status,
             HttpParser::Status::MessageComplete);
    QCOMPARE(parser.responseHead().status, 200);
    QCOMPARE(parser.responseHead().versionMinor, 0);
    QVERIFY(!parser.responseHead().keepAlive);
    QCOMPARE(parser.body(), QByteArray("ok"));
}

void TestHttpParser::responseNoBody_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("expectNoBody");
    // A HEAD response announces the length of the body it does not send.
    QTest::newRow("HEAD") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1234\r\n\r\n") << true;
    QTest::newRow("HEAD chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") << true;
    QTest::newRow("HEAD no length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Type: text/html\r\n\r\n") << true;
    QTest::newRow("204") << QByteArray("HTTP/1.1 204 No Content\r\nX: y\r\n\r\n") << false;
    QTest::newRow("304") << QByteArray("HTTP/1.1 304 Not Modified\r\nETag: \"x\"\r\n\r\n") << false;
    // The length of the entity it does not send, larger than the body limit: still no body, no error.
    QTest::newRow("304 with length") << QByteArray("HTTP/1.1 304 Not Modified\r\nContent-Length: 99999999\r\n\r\n")
                                     << false;
    QTest::newRow("HEAD big length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 99999999\r\n\r\n") << true;
}

void TestHttpParser::responseNoBody()
{
    QFETCH(QByteArray, response);
    QFETCH(bool, expectNoBody);
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    parser.setExpectNoBody(expectNoBody);
    // The next response follows at once: it must not be taken as a body.
    const QByteArray next = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";
    const Outcome out = feedAll(parser, response + next);
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(out.consumed, response.size());
    QVERIFY(parser.body().isEmpty());
    QVERIFY(parser.responseHead().keepAlive);
}

void TestHttpParser::chunkedResponse()
{
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    const QByteArray resp = "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabc\r\n2\r\nde\r\n0\r\n\r\n";
    const Outcome out = feedAll(parser, resp);
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(out.consumed, resp.size());
    QVERIFY(parser.responseHead().chunked);
    QCOMPARE(parser.body(), QByteArray("abcde"));
}

void TestHttpParser::switchingProtocolsResponse()
{
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    const QByteArray head = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                            "Sec-WebSocket-Accept: s3pPLMBiTxaQ9kYGzzhZRbK+xOo=\r\n\r\n";
    const Outcome out = feedAll(parser, head + QByteArray::fromHex("8105"));
    QCOMPARE(out.status, HttpParser::Status::MessageComplete);
    QCOMPARE(out.consumed, head.size());
    QCOMPARE(parser.responseHead().status, 101);
    QVERIFY(parser.body().isEmpty());
}

void TestHttpParser::eofDelimitedResponse()
{
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    const QByteArray resp = "HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\n\r\nall until";
    const Outcome out = feedAll(parser, resp);
    QCOMPARE(out.status, HttpParser::Status::NeedMore);
    QCOMPARE(out.consumed, resp.size());
    QVERIFY(!parser.responseHead().keepAlive);
    qsizetype consumed = 0;
    QCOMPARE(parser.feed(" the end", 8, &consumed), HttpParser::Status::NeedMore);
    QCOMPARE(parser.finish(), HttpParser::Status::MessageComplete);
    QCOMPARE(parser.body(), QByteArray("all until the end"));

    // EOF right after the head (no body bytes at all) is a complete, empty response too.
    HttpParser empty(HttpParser::Mode::Response, defaultLimits());
    const QByteArray head = "HTTP/1.1 200 OK\r\n\r\n";
    QCOMPARE(empty.feed(head.constData(), head.size(), &consumed), HttpParser::Status::HeadComplete);
    QCOMPARE(empty.finish(), HttpParser::Status::MessageComplete);
    QVERIFY(empty.body().isEmpty());

    // Nothing in progress: nothing to finish.
    HttpParser idle(HttpParser::Mode::Response, defaultLimits());
    QCOMPARE(idle.finish(), HttpParser::Status::NeedMore);
}

void TestHttpParser::truncatedResponse()
{
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    const QByteArray resp = "HTTP/1.1 200 OK\r\nContent-Length: 10\r\n\r\nshort";
    QCOMPARE(feedAll(parser, resp).status, HttpParser::Status::NeedMore);
    QVERIFY(parser.inMessage());
    QCOMPARE(parser.finish(), HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::Malformed);

    HttpParser inHead(HttpParser::Mode::Response, defaultLimits());
    QCOMPARE(feedAll(inHead, "HTTP/1.1 200 OK\r\nContent-Le").status, HttpParser::Status::NeedMore);
    QCOMPARE(inHead.finish(), HttpParser::Status::Error);

    HttpParser chunked(HttpParser::Mode::Response, defaultLimits());
    QCOMPARE(feedAll(chunked, "HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nab").status,
             HttpParser::Status::NeedMore);
    QCOMPARE(chunked.finish(), HttpParser::Status::Error);
}

void TestHttpParser::responseBodyOverLimit()
{
    HttpParser::Limits limits;
    limits.maxBodyBytes = 10;
    HttpParser parser(HttpParser::Mode::Response, limits);
    const QByteArray resp = "HTTP/1.1 200 OK\r\n\r\n" + QByteArray(11, 'x');
    QCOMPARE(feedAll(parser, resp).status, HttpParser::Status::Error);
    QCOMPARE(parser.error(), HttpParser::Error::BodyTooLarge);
}

void TestHttpParser::errorIsSticky()
{
    HttpParser parser(HttpParser::Mode::Request, defaultLimits());
    QCOMPARE(feedAll(parser, "NOT HTTP\r\n\r\n").status, HttpParser::Status::Error);
    qsizetype consumed = 42;
    QCOMPARE(parser.feed("GET / HTTP/1.1\r\n\r\n", 18, &consumed), HttpParser::Status::Error);
    QCOMPARE(consumed, qsizetype(0));
    // reset() recovers.
    parser.reset();
    QCOMPARE(parser.error(), HttpParser::Error::None);
    QCOMPARE(feedAll(parser, "GET / HTTP/1.1\r\n\r\n").status, HttpParser::Status::MessageComplete);
}

QTEST_GUILESS_MAIN(TestHttpParser)
void TestHttpParser::bodyFromAByteArray_data()
{
    QTest::addColumn<QByteArray>("head");
    QTest::addColumn<QByteArray>("body"); // as it goes on the wire
    QTest::addColumn<QByteArray>("expected");
    QTest::addColumn<int>("pieces"); // the message is fed in this many pieces, the body taken after each

    QByteArray big(100 * 1024 + 3, Qt::Uninitialized);
    for (qsizetype i = 0; i < big.size(); ++i)
        big[i] = char(i * 13 + 1);
    const QByteArray lengthHead = "HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(big.size()) + "\r\n\r\n";
    QTest::newRow("length, one piece") << lengthHead << big << big << 1;
    QTest::newRow("length, two pieces") << lengthHead << big << big << 2;
    QTest::newRow("length, seven pieces") << lengthHead << big << big << 7;
    QTest::newRow("one odd byte") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n") << QByteArray("x")
                                  << QByteArray("x") << 1;
    const QByteArray chunked = "3\r\nabc\r\n" + QByteArray::number(big.size(), 16) + "\r\n" + big + "\r\n0\r\n\r\n";
    QTest::newRow("chunked, one piece") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n")
                                        << chunked << "abc" + big << 1;
    QTest::newRow("chunked, five pieces")
        << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n") << chunked << "abc" + big << 5;
}

// Fed from a QByteArray, the body is a slice of it where it can be (no copy), and the same bytes as
// when fed from a pointer, however the message is cut; the fed array can go away afterwards.
void TestHttpParser::headersShareASmallBuffer_data()
{
    QTest::addColumn<qsizetype>("shareUpTo");
    QTest::addColumn<qsizetype>("bufferCapacity");
    QTest::addColumn<bool>("shared");
    QTest::newRow("off by default") << qsizetype(0) << qsizetype(0) << false;
    QTest::newRow("small buffer") << qsizetype(16 * 1024) << qsizetype(0) << true;
    QTest::newRow("buffer beyond the bound") << qsizetype(16 * 1024) << qsizetype(64 * 1024) << false;
}

// Header names and values may point into the buffer they were read from, when the caller allows it
// and that buffer is small; they stay valid after the caller lets the buffer go.
void TestHttpParser::headersShareASmallBuffer()
{
    QFETCH(qsizetype, shareUpTo);
    QFETCH(qsizetype, bufferCapacity);
    QFETCH(bool, shared);

    HttpParser::Limits limits = defaultLimits();
    limits.shareHeadersFromBufferUpTo = shareUpTo;
    HttpParser parser(HttpParser::Mode::Response, limits);
    auto buffer = std::make_unique<QByteArray>();
    buffer->reserve(bufferCapacity);
    buffer->append("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nX-Trace:  abc  \r\nContent-Length: 2\r\n\r\nok");
    qsizetype consumed = 0;
    HttpParser::Status status = parser.feed(*buffer, 0, &consumed);
    if (status == HttpParser::Status::HeadComplete)
        status = parser.feed(*buffer, consumed, &consumed);
    QCOMPARE(status, HttpParser::Status::MessageComplete);
    const HeaderList headers = parser.responseHead().headers;
    QCOMPARE(headers.size(), 3);
    const QByteArray &value = headers.at(0).second;
    const bool inside = value.constData() >= buffer->constData()
        && value.constData() < buffer->constData() + buffer->size();
    QCOMPARE(inside, shared);
    buffer.reset();
    QCOMPARE(headers.at(0), keyhole::protocol::Header("Content-Type", "text/plain"));
    QCOMPARE(headers.at(1), keyhole::protocol::Header("X-Trace", "abc")); // trailing blanks trimmed, shared or not
    QCOMPARE(headers.at(2), keyhole::protocol::Header("Content-Length", "2"));
}

void TestHttpParser::bodyFromAByteArray()
{
    QFETCH(QByteArray, head);
    QFETCH(QByteArray, body);
    QFETCH(QByteArray, expected);
    QFETCH(int, pieces);

    const QByteArray message = head + body + "HTTP/1.1 204 No Content\r\n\r\n"; // and the next one
    HttpParser parser(HttpParser::Mode::Response, defaultLimits());
    QByteArray taken;
    qsizetype messageEnd = -1;
    qsizetype at = 0;
    const qsizetype step = (head.size() + body.size()) / pieces + 1;
    for (int i = 0; i < pieces + 1 && messageEnd < 0; ++i) {
        // Each piece is its own array (as each socket read is), read from an odd offset into it.
        auto piece = std::make_unique<QByteArray>("pad" + message.mid(at, step));
        qsizetype from = 3;
        for (;;) {
            qsizetype consumed = 0;
            const HttpParser::Status status = parser.feed(*piece, from, &consumed);
            QVERIFY(status != HttpParser::Status::Error);
            from += consumed;
            at += consumed;
            const QByteArray part = parser.takeBody();
            if (!part.isEmpty() && pieces == 1 && head.contains("Content-Length")) {
                // The whole body in one piece: no copy.
                QVERIFY(part.constData() >= piece->constData());
                QVERIFY(part.constData() < piece->constData() + piece->size());
            }
            taken += part;
            if (status == HttpParser::Status::MessageComplete) {
                messageEnd = at;
                break;
            }
            if (status == HttpParser::Status::NeedMore)
                break;
        }
        piece.reset();
    }
    QCOMPARE(messageEnd, head.size() + body.size());
    QCOMPARE(taken.size(), expected.size());
    QVERIFY(taken == expected);
}

#include "TestHttpParser.moc"
