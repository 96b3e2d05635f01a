#include "protocol/CborReader.h"
#include "protocol/Codec.h"

#include <QCborMap>
#include <QCborStreamWriter>
#include <QCborValue>
#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QTest>

#include <memory>
#include <utility>

using namespace keyhole::protocol;

Q_DECLARE_METATYPE(keyhole::protocol::Message)

namespace {

// Readable, comparable text for any message; long byte fields shown by size and digest so a
// failing comparison of a 500 KB body stays printable.
QString bytesText(const QByteArray &b)
{
    if (b.size() <= 64)
        return QString::fromLatin1(b.toHex());
    return QStringLiteral("<%1 bytes sha256=%2>")
        .arg(b.size())
        .arg(QString::fromLatin1(QCryptographicHash::hash(b, QCryptographicHash::Sha256).toHex()));
}

QString headersText(const HeaderList &headers)
{
    QStringList parts;
    for (const Header &h : headers)
        parts << bytesText(h.first) + QLatin1Char('=') + bytesText(h.second);
    return QLatin1Char('[') + parts.join(QLatin1Char(',')) + QLatin1Char(']');
}

QString describe(const RegistrationRequest &m)
{
    return QStringLiteral("RegistrationRequest token=%1").arg(bytesText(m.token));
}
QString describe(const RegistrationResponse &m)
{
    return QStringLiteral("RegistrationResponse accepted=%1 hostname=%2 url=%3 label=%4 maxBody=%5/%6 timeout=%7 "
                          "reason=%8 code=%9 retry=%10")
        .arg(m.accepted)
        .arg(m.hostname, m.publicUrl, m.label)
        .arg(m.maxRequestBodyBytes)
        .arg(m.maxResponseBodyBytes)
        .arg(m.requestTimeoutMs)
        .arg(m.reason, bytesText(m.code))
        .arg(m.retry);
}
QString describe(const HttpRequest &m)
{
    return QStringLiteral("HttpRequest id=%1 method=%2 path=%3 query=%4 headers=%5 body=%6 remote=%7 streamed=%8")
        .arg(bytesText(m.id), bytesText(m.method), bytesText(m.path), bytesText(m.query), headersText(m.headers),
             bytesText(m.body), m.remoteAddress)
        .arg(m.streamed);
}
QString describe(const HttpResponse &m)
{
    return QStringLiteral("HttpResponse id=%1 status=%2 headers=%3 body=%4 streamed=%5")
        .arg(bytesText(m.id))
        .arg(m.status)
        .arg(headersText(m.headers), bytesText(m.body))
        .arg(m.streamed);
}
QString describe(const WsRequest &m)
{
    return QStringLiteral("WsRequest id=%1 path=%2 query=%3 headers=%4 remote=%5")
        .arg(bytesText(m.id), bytesText(m.path), bytesText(m.query), headersText(m.headers), m.remoteAddress);
}
QString describe(const WsResponse &m)
{
    return QStringLiteral("WsResponse id=%1 accepted=%2 subprotocol=%3 status=%4 headers=%5 body=%6")
        .arg(bytesText(m.id))
        .arg(m.accepted)
        .arg(bytesText(m.subprotocol))
        .arg(m.status)
        .arg(headersText(m.headers), bytesText(m.body));
}
QString describe(const WsMessage &m)
{
    return QStringLiteral("WsMessage id=%1 binary=%2 payload=%3")
        .arg(bytesText(m.id))
        .arg(m.binary)
        .arg(bytesText(m.payload));
}
QString describe(const WsTeardown &m)
{
    return QStringLiteral("WsTeardown id=%1 code=%2 reason=%3").arg(bytesText(m.id)).arg(m.code).arg(m.reason);
}
QString describe(const Ping &m)
{
    return QStringLiteral("Ping nonce=%1").arg(m.nonce);
}
QString describe(const Pong &m)
{
    return QStringLiteral("Pong nonce=%1").arg(m.nonce);
}
QString describe(const Goodbye &m)
{
    return QStringLiteral("Goodbye code=%1 reason=%2").arg(bytesText(m.code), m.reason);
}
QString describe(const HttpBody &m)
{
    return QStringLiteral("HttpBody id=%1 data=%2 end=%3").arg(bytesText(m.id), bytesText(m.data)).arg(m.end);
}
QString describe(const HttpCredit &m)
{
    return QStringLiteral("HttpCredit id=%1 bytes=%2").arg(bytesText(m.id)).arg(m.bytes);
}
QString describe(const HttpCancel &m)
{
    return QStringLiteral("HttpCancel id=%1 reason=%2").arg(bytesText(m.id), m.reason);
}
QString describe(const Message &message)
{
    return std::visit([](const auto &m) { return describe(m); }, message);
}

QByteArray allBytes()
{
    QByteArray b;
    for (int i = 0; i < 256; ++i)
        b.append(char(i));
    return b;
}

QByteArray patterned(qsizetype size)
{
    QByteArray b(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        b[i] = char((i * 131 + 7) & 0xff);
    return b;
}

HeaderList cookieHeaders()
{
    return {{"Content-Type", "text/html; charset=utf-8"},
            {"Set-Cookie", "a=1; Path=/"},
            {"X-Other", "x"},
            {"Set-Cookie", "b=2; HttpOnly"},
            {"set-cookie", "c=3"},
            {"Set-Cookie", "a=1; Path=/"}};
}

// A CBOR map written entry by entry, so tests can produce duplicates and odd orders.
using Entry = std::pair<QCborValue, QCborValue>;
QByteArray mapFrame(const QList<Entry> &entries)
{
    QByteArray out;
    QCborStreamWriter w(&out);
    w.startMap(quint64(entries.size()));
    for (const Entry &e : entries) {
        e.first.toCbor(w);
        e.second.toCbor(w);
    }
    w.endMap();
    return out;
}

QList<Entry> responseEntries(const QCborValue &status = 200)
{
    return {{QStringLiteral("v"), kProtocolVersion},
            {QStringLiteral("t"), 4},
            {QStringLiteral("id"), QByteArray("r1")},
            {QStringLiteral("status"), status}};
}

QCborArray headerArray(int count)
{
    QCborArray array;
    for (int i = 0; i < count; ++i)
        array.append(QCborArray{QByteArray("X-H"), QByteArray::number(i)});
    return array;
}

QList<Message> sampleMessages()
{
    HttpRequest request;
    request.id = "req-1";
    request.method = "POST";
    request.path = "/a%20b/c";
    request.query = "x=1&y=%2F";
    request.headers = cookieHeaders();
    request.body = allBytes();
    request.remoteAddress = QStringLiteral("2001:db8::1");

    HttpResponse response;
    response.id = "req-1";
    response.status = 200;
    response.headers = cookieHeaders();
    response.body = "hello";

    RegistrationResponse accepted;
    accepted.accepted = true;
    accepted.hostname = QStringLiteral("abc.example.com");
    accepted.publicUrl = QStringLiteral("https://abc.example.com");
    accepted.label = QStringLiteral("abc");
    accepted.maxRequestBodyBytes = 100 * 1024 * 1024;
    accepted.requestTimeoutMs = 30000;

    return {RegistrationRequest{"eyJhbGciOiJFUzI1NiJ9.e30.sig"},
            Message(accepted),
            Message(request),
            Message(response),
            WsRequest{"ws-1", "/socket", "", {{"Origin", "https://x"}}, QStringLiteral("1.2.3.4")},
            WsResponse{"ws-1", true, "chat", 101, {}, {}},
            WsMessage{"ws-1", true, allBytes()},
            WsTeardown{"ws-1", 1001, QStringLiteral("going away")},
            Ping{42},
            Pong{42},
            Goodbye{Goodbye::CodeReplaced, QStringLiteral("another client took this hostname")},
            HttpBody{"r-1", patterned(1000), true},
            HttpCredit{"r-1", 65536},
            HttpCancel{"r-1", QStringLiteral("visitor gone")}};
}

} // namespace

class TestCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void messageTypeNames();
    void roundTrip_data();
    void roundTrip();
    void wireShape();
    void encodingOmitsDefaults();
    void ignoresUnknownKeys();
    void acceptsIndefiniteLengths();
    void readsRegistrationOfAnyVersion_data();
    void readsRegistrationOfAnyVersion();
    void limitsAreInclusive();
    void malformed_data();
    void malformed();
    void truncatedFramesFail();
    void trailingBytesFail();
    void fuzzFlippedBytes();
    void partsJoinToTheFrame_data();
    void partsJoinToTheFrame();
    void partsShareLargeBodies_data();
    void partsShareLargeBodies();
    void largeBodiesShareTheDecodedFrame_data();
    void largeBodiesShareTheDecodedFrame();
    void smallExchangesShareTheirFrame();
    void benchmarkEncode100KiB();
    void benchmarkDecode100KiB();
};

void TestCodec::messageTypeNames()
{
    QCOMPARE(QByteArray(messageTypeName(MessageType::RegistrationRequest)), QByteArray("RegistrationRequest"));
    QCOMPARE(QByteArray(messageTypeName(MessageType::HttpResponse)), QByteArray("HttpResponse"));
    QCOMPARE(QByteArray(messageTypeName(MessageType::Goodbye)), QByteArray("Goodbye"));
    QCOMPARE(QByteArray(messageTypeName(static_cast<MessageType>(0))), QByteArray("unknown"));
    QCOMPARE(QByteArray(messageTypeName(MessageType::HttpCancel)), QByteArray("HttpCancel"));
    QCOMPARE(QByteArray(messageTypeName(static_cast<MessageType>(15))), QByteArray("unknown"));

    QCOMPARE(messageType(Message(RegistrationRequest{})), MessageType::RegistrationRequest);
    QCOMPARE(messageType(Message(HttpRequest{})), MessageType::HttpRequest);
    QCOMPARE(messageType(Message(WsTeardown{})), MessageType::WsTeardown);
    QCOMPARE(messageType(Message(Pong{})), MessageType::Pong);
    QCOMPARE(messageType(Message(Goodbye{})), MessageType::Goodbye);
}

void TestCodec::roundTrip_data()
{
    QTest::addColumn<Message>("message");

    QTest::newRow("registration request") << Message(RegistrationRequest{"header.payload.signature"});
    RegistrationResponse accepted;
    accepted.accepted = true;
    accepted.hostname = QStringLiteral("mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpiydcmrtgq2q.example.com");
    accepted.publicUrl = QStringLiteral("https://mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpiydcmrtgq2q.example.com");
    accepted.label = QStringLiteral("mfrggzdfmztwq2lknnwg23tpobyxe43uov3ho6dzpiydcmrtgq2q");
    accepted.maxRequestBodyBytes = 100 * 1024 * 1024;
    accepted.maxResponseBodyBytes = 512000;
    accepted.requestTimeoutMs = 30000;
    QTest::newRow("registration accepted") << Message(accepted);
    RegistrationResponse refused;
    refused.reason = QStringLiteral("Horloge décalée de 3 min ⏰ — 時計");
    refused.code = Goodbye::CodeClockSkew;
    QTest::newRow("registration refused, unicode reason") << Message(refused);
    RegistrationResponse busy;
    busy.reason = QStringLiteral("too many registrations; try again shortly");
    busy.code = Goodbye::CodeBusy;
    busy.retry = true;
    QTest::newRow("registration refused, worth retrying") << Message(busy);
    RegistrationResponse huge;
    huge.accepted = true;
    huge.maxRequestBodyBytes = std::numeric_limits<qint64>::max();
    huge.maxResponseBodyBytes = std::numeric_limits<qint64>::max();
    QTest::newRow("registration max qint64") << Message(huge);

    HttpRequest get;
    get.id = "0123456789abcdef";
    get.method = "GET";
    get.path = "/";
    QTest::newRow("http request minimal, empty body") << Message(get);
    HttpRequest post;
    post.id = "id-\x01\xff";
    post.method = "POST";
    post.path = "/upload/%E2%9C%93";
    post.query = "a=1&a=2&b";
    post.headers = cookieHeaders();
    post.body = allBytes();
    post.remoteAddress = QStringLiteral("203.0.113.9");
    QTest::newRow("http request binary body 0x00-0xff") << Message(post);
    HttpRequest big = post;
    big.body = patterned(500 * 1000);
    QTest::newRow("http request 500 KB body") << Message(big);
    HttpRequest emptyHeaderValue = get;
    emptyHeaderValue.headers = {{"X-Empty", ""}, {"X-Bin", QByteArray("\x00\r\n", 3)}};
    QTest::newRow("http request odd header bytes") << Message(emptyHeaderValue);

    QTest::newRow("http response 200 empty") << Message(HttpResponse{"r", 200, {}, {}});
    QTest::newRow("http response 100") << Message(HttpResponse{"r", 100, {}, {}});
    QTest::newRow("http response 999") << Message(HttpResponse{"r", 999, {}, {}});
    QTest::newRow("http response set-cookie order") << Message(HttpResponse{"r", 302, cookieHeaders(), "moved"});
    QTest::newRow("http response 500 KB binary") << Message(HttpResponse{"r", 200, {}, patterned(500 * 1000)});

    QTest::newRow("ws request") << Message(WsRequest{"w", "/ws", "room=1", cookieHeaders(), QStringLiteral("::1")});
    QTest::newRow("ws response accepted") << Message(WsResponse{"w", true, "graphql-ws", 101, {}, {}});
    QTest::newRow("ws response refused") << Message(
        WsResponse{"w", false, {}, 403, {{"Content-Type", "text/plain"}}, "forbidden"});
    QTest::newRow("ws response no status") << Message(WsResponse{"w", true, {}, 0, {}, {}});
    QTest::newRow("ws message text") << Message(WsMessage{"w", false, "héllo"});
    QTest::newRow("ws message binary") << Message(WsMessage{"w", true, allBytes()});
    QTest::newRow("ws message empty") << Message(WsMessage{"w", false, {}});
    QTest::newRow("ws teardown default") << Message(WsTeardown{"w", 1000, {}});
    QTest::newRow("ws teardown 4999 unicode") << Message(WsTeardown{"w", 4999, QStringLiteral("bye 👋")});
    QTest::newRow("ping 0") << Message(Ping{0});
    QTest::newRow("ping max") << Message(Ping{std::numeric_limits<quint64>::max()});
    QTest::newRow("pong") << Message(Pong{123456789});
    QTest::newRow("goodbye replaced") << Message(Goodbye{Goodbye::CodeReplaced, QStringLiteral("remplacé")});
    HttpRequest streamedPost = post;
    streamedPost.streamed = true;
    QTest::newRow("http request streamed, first bytes inline") << Message(streamedPost);
    QTest::newRow("http response streamed, empty head body") << Message(HttpResponse{"r", 200, {}, {}, true});
    QTest::newRow("http body chunk") << Message(HttpBody{"r", patterned(256 * 1024), false});
    QTest::newRow("http body empty end") << Message(HttpBody{"r", {}, true});
    QTest::newRow("http credit max") << Message(HttpCredit{"r", std::numeric_limits<qint64>::max()});
    QTest::newRow("http cancel") << Message(HttpCancel{"r", QStringLiteral("the local service closed")});
    QTest::newRow("goodbye empty code") << Message(Goodbye{});
}

void TestCodec::roundTrip()
{
    QFETCH(Message, message);
    const QByteArray frame = Codec::encode(message);
    QVERIFY(!frame.isEmpty());
    const DecodeResult result = Codec::decode(frame);
    QVERIFY2(result, qPrintable(result.error));
    QVERIFY(result.error.isEmpty());
    QCOMPARE(messageType(*result.message), messageType(message));
    QCOMPARE(describe(*result.message), describe(message));
    // Byte-for-byte stable, so frames can be compared and cached.
    QCOMPARE(Codec::encode(*result.message), frame);
}

void TestCodec::wireShape()
{
    HttpResponse response{"id1", 201, {{"Set-Cookie", "a"}, {"Set-Cookie", "b"}}, QByteArray("\x00\x01", 2)};
    const QByteArray frame = Codec::encode(response);
    const QCborMap map = QCborValue::fromCbor(frame).toMap();
    QCOMPARE(map.size(), 6);
    // v and t lead the map.
    QCOMPARE(map.constBegin().key().toString(), QStringLiteral("v"));
    QCOMPARE((map.constBegin() + 1).key().toString(), QStringLiteral("t"));
    QCOMPARE(map.value(QStringLiteral("v")).toInteger(), qint64(kProtocolVersion));
    QCOMPARE(map.value(QStringLiteral("t")).toInteger(), qint64(4));
    QVERIFY(map.value(QStringLiteral("id")).isByteArray());
    QCOMPARE(map.value(QStringLiteral("status")).toInteger(), qint64(201));
    QVERIFY(map.value(QStringLiteral("body")).isByteArray()); // never base64 text
    QCOMPARE(map.value(QStringLiteral("body")).toByteArray(), QByteArray("\x00\x01", 2));
    const QCborArray headers = map.value(QStringLiteral("headers")).toArray();
    QCOMPARE(headers.size(), 2);
    QVERIFY(headers.at(0).toArray().at(0).isByteArray());
    QCOMPARE(headers.at(1).toArray().at(1).toByteArray(), QByteArray("b"));

    const QByteArray text = Codec::encode(Goodbye{"idle", QStringLiteral("silent")});
    const QCborMap goodbye = QCborValue::fromCbor(text).toMap();
    QVERIFY(goodbye.value(QStringLiteral("code")).isByteArray());
    QVERIFY(goodbye.value(QStringLiteral("reason")).isString());

    // 100 KiB body: the frame is the body plus a small envelope.
    const QByteArray big = Codec::encode(HttpResponse{"id1", 200, {}, patterned(100 * 1024)});
    QVERIFY(big.size() < 100 * 1024 + 64);
}

void TestCodec::encodingOmitsDefaults()
{
    const QCborMap ping = QCborValue::fromCbor(Codec::encode(Ping{0})).toMap();
    QVERIFY(ping.contains(QStringLiteral("nonce"))); // required fields are always written
    const QCborMap msg = QCborValue::fromCbor(Codec::encode(WsMessage{"w", false, {}})).toMap();
    QCOMPARE(msg.size(), 3);
    QVERIFY(!msg.contains(QStringLiteral("binary")));
    QVERIFY(!msg.contains(QStringLiteral("payload")));
    const QCborMap teardown = QCborValue::fromCbor(Codec::encode(WsTeardown{"w", 1000, {}})).toMap();
    QVERIFY(!teardown.contains(QStringLiteral("code")));
    const QCborMap refused = QCborValue::fromCbor(Codec::encode(RegistrationResponse{})).toMap();
    QVERIFY(refused.contains(QStringLiteral("accepted")));
    QCOMPARE(refused.size(), 3);
    // A final refusal leaves "retry" out, so peers that predate the field read the same frame as before.
    RegistrationResponse busy;
    busy.retry = true;
    const QCborMap retry = QCborValue::fromCbor(Codec::encode(busy)).toMap();
    QCOMPARE(retry.size(), 4);
    QCOMPARE(retry.value(QStringLiteral("retry")), QCborValue(true));
}

void TestCodec::ignoresUnknownKeys()
{
    QList<Entry> entries = responseEntries();
    entries.append({QStringLiteral("future"), QCborMap{{1, QCborArray{QByteArray("x"), QStringLiteral("y")}}}});
    entries.append({QStringLiteral("another"), QCborValue(QCborKnownTags::DateTimeString, QStringLiteral("2026"))});
    entries.append({QStringLiteral("float"), 1.5});
    const DecodeResult result = Codec::decode(mapFrame(entries));
    QVERIFY2(result, qPrintable(result.error));
    const auto *response = std::get_if<HttpResponse>(&*result.message);
    QVERIFY(response);
    QCOMPARE(response->status, 200);
    QCOMPARE(response->id, QByteArray("r1"));
}

void TestCodec::readsRegistrationOfAnyVersion_data()
{
    QTest::addColumn<Message>("message");
    QTest::addColumn<int>("version");
    QTest::addColumn<bool>("readable");
    RegistrationResponse refusal;
    refusal.reason = QStringLiteral("update the client");
    refusal.code = Goodbye::CodeVersion;
    // A peer of another version must be refused in words, so these three are read whatever it speaks.
    QTest::newRow("v1 registration request") << Message(RegistrationRequest{"a.b.c"}) << 1 << true;
    QTest::newRow("v9 registration request") << Message(RegistrationRequest{"a.b.c"}) << 9 << true;
    QTest::newRow("v1 registration refusal") << Message(refusal) << 1 << true;
    QTest::newRow("v1 goodbye") << Message(Goodbye{"protocol-error", QStringLiteral("unsupported")}) << 1 << true;
    // Everything else only in our own version.
    QTest::newRow("v1 http request") << Message(HttpRequest{"i", "GET", "/", {}, {}, {}, {}, false}) << 1 << false;
    QTest::newRow("v1 ping") << Message(Ping{1}) << 1 << false;
    QTest::newRow("v3 http body") << Message(HttpBody{"i", "x", true}) << 3 << false;
    QTest::newRow("v0 goodbye") << Message(Goodbye{"x", {}}) << 0 << false;
}

void TestCodec::readsRegistrationOfAnyVersion()
{
    QFETCH(Message, message);
    QFETCH(int, version);
    QFETCH(bool, readable);
    const QByteArray frame = Codec::encode(message, version);
    QCOMPARE(QCborValue::fromCbor(frame).toMap().value(QStringLiteral("v")).toInteger(), qint64(version));
    const DecodeResult result = Codec::decode(frame);
    QCOMPARE(bool(result), readable);
    if (!readable) {
        QCOMPARE(result.error,
                 QStringLiteral("unsupported protocol version %1 (expected %2)").arg(version).arg(kProtocolVersion));
        return;
    }
    QCOMPARE(result.version, version);
    QCOMPARE(describe(*result.message), describe(message));
}

void TestCodec::acceptsIndefiniteLengths()
{
    QByteArray out;
    QCborStreamWriter w(&out);
    w.startMap();
    w.append(QLatin1StringView("v"));
    w.append(quint64(kProtocolVersion));
    w.append(QLatin1StringView("t"));
    w.append(quint64(4));
    w.append(QLatin1StringView("id"));
    w.append(QByteArray("r"));
    w.append(QLatin1StringView("status"));
    w.append(quint64(204));
    w.append(QLatin1StringView("headers"));
    w.startArray();
    w.startArray(2);
    w.append(QByteArray("A"));
    w.append(QByteArray("1"));
    w.endArray();
    w.endArray();
    w.endMap();
    // Chunked body: 0x5f, chunk "ab", chunk "cd", break.
    QByteArray frame = out;
    frame.chop(1); // drop the map's break
    frame += QByteArray::fromHex("64626f6479") + QByteArray::fromHex("5f426162426364ff") + QByteArray::fromHex("ff");
    const DecodeResult result = Codec::decode(frame);
    QVERIFY2(result, qPrintable(result.error));
    const auto *response = std::get_if<HttpResponse>(&*result.message);
    QVERIFY(response);
    QCOMPARE(response->body, QByteArray("abcd"));
    QCOMPARE(response->headers.size(), 1);

    DecodeLimits limits;
    limits.maxBodyBytes = 3;
    const DecodeResult tooBig = Codec::decode(frame, limits);
    QVERIFY(!tooBig);
    QCOMPARE(tooBig.error, QStringLiteral("HttpResponse: field 'body' exceeds 3 bytes"));
}

void TestCodec::limitsAreInclusive()
{
    DecodeLimits limits;
    limits.maxBodyBytes = 10;
    limits.maxHeaders = 3;
    limits.maxStringBytes = 4;
    QVERIFY(Codec::decode(Codec::encode(HttpResponse{"abcd", 200, cookieHeaders().mid(0, 3), QByteArray(10, 'x')}),
                          limits));
    QVERIFY(!Codec::decode(Codec::encode(HttpResponse{"abcde", 200, {}, {}}), limits));
    QVERIFY(!Codec::decode(Codec::encode(HttpResponse{"abcd", 200, cookieHeaders().mid(0, 4), {}}), limits));
    QVERIFY(!Codec::decode(Codec::encode(HttpResponse{"abcd", 200, {}, QByteArray(11, 'x')}), limits));
}

void TestCodec::malformed_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::addColumn<int>("maxHeaders");
    QTest::addColumn<int>("maxBody");
    QTest::addColumn<QString>("error"); // exact when it contains no '*', else the part before '*' is a prefix

    const int h = 256;
    const int b = 1 << 20;
    auto with = [](QList<Entry> entries, const QString &key, const QCborValue &value) {
        for (Entry &e : entries) {
            if (e.first == QCborValue(key)) {
                e.second = value;
                return entries;
            }
        }
        entries.append({key, value});
        return entries;
    };
    auto without = [](QList<Entry> entries, const QString &key) {
        entries.removeIf([&](const Entry &e) { return e.first == QCborValue(key); });
        return entries;
    };
    const QList<Entry> base = responseEntries();

    QTest::newRow("empty") << QByteArray() << h << b << QStringLiteral("empty frame");
    QTest::newRow("random bytes") << QByteArray::fromHex("deadbeef00ff13") << h << b << QStringLiteral("*");
    QTest::newRow("array") << QCborValue(QCborArray{1, 2}).toCbor() << h << b
                           << QStringLiteral("frame is not a CBOR map");
    QTest::newRow("integer") << QByteArray::fromHex("01") << h << b << QStringLiteral("frame is not a CBOR map");
    QTest::newRow("truncated map head") << QByteArray::fromHex("bb00") << h << b << QStringLiteral("invalid CBOR: *");
    QTest::newRow("huge map count") << QByteArray::fromHex("bb7fffffffffffffff") << h << b
                                    << QStringLiteral("truncated frame");
    QTest::newRow("newer version") << mapFrame(with(base, QStringLiteral("v"), 3)) << h << b
                                   << QStringLiteral("unsupported protocol version 3 (expected 2)");
    QTest::newRow("older version") << mapFrame(with(base, QStringLiteral("v"), 1)) << h << b
                                   << QStringLiteral("unsupported protocol version 1 (expected 2)");
    QTest::newRow("version as text") << mapFrame(with(base, QStringLiteral("v"), QStringLiteral("1"))) << h << b
                                     << QStringLiteral("field 'v' must be an unsigned integer");
    QTest::newRow("missing version") << mapFrame(without(base, QStringLiteral("v"))) << h << b
                                     << QStringLiteral("frame must start with keys 'v' then 't'");
    QTest::newRow("empty map") << QByteArray::fromHex("a0") << h << b
                               << QStringLiteral("frame must start with key 'v'");
    QTest::newRow("only version") << mapFrame({{QStringLiteral("v"), kProtocolVersion}}) << h << b
                                  << QStringLiteral("frame must start with key 't'");
    QTest::newRow("unknown type") << mapFrame(with(base, QStringLiteral("t"), 99)) << h << b
                                  << QStringLiteral("unknown message type 99");
    QTest::newRow("type zero") << mapFrame(with(base, QStringLiteral("t"), 0)) << h << b
                               << QStringLiteral("unknown message type 0");
    QTest::newRow("type huge") << mapFrame(with(base, QStringLiteral("t"), QCborValue(qint64(1) << 40))) << h << b
                               << QStringLiteral("unknown message type 1099511627776");
    QTest::newRow("missing id") << mapFrame(without(base, QStringLiteral("id"))) << h << b
                                << QStringLiteral("HttpResponse: missing required field 'id'");
    QTest::newRow("empty id") << mapFrame(with(base, QStringLiteral("id"), QByteArray())) << h << b
                              << QStringLiteral("HttpResponse: field 'id' must not be empty");
    QTest::newRow("id as text") << mapFrame(with(base, QStringLiteral("id"), QStringLiteral("r1"))) << h << b
                                << QStringLiteral("HttpResponse: field 'id' must be a byte string");
    QTest::newRow("tagged id") << mapFrame(with(base, QStringLiteral("id"), QCborValue(QCborTag(24), QByteArray("x"))))
                               << h << b << QStringLiteral("HttpResponse: field 'id' must be a byte string");
    QTest::newRow("missing status") << mapFrame(without(base, QStringLiteral("status"))) << h << b
                                    << QStringLiteral("HttpResponse: missing required field 'status'");
    QTest::newRow("status as text") << mapFrame(responseEntries(QStringLiteral("200"))) << h << b
                                    << QStringLiteral("HttpResponse: field 'status' must be an unsigned integer");
    QTest::newRow("status negative") << mapFrame(responseEntries(-200)) << h << b
                                     << QStringLiteral("HttpResponse: field 'status' must be an unsigned integer");
    QTest::newRow("status float") << mapFrame(responseEntries(200.0)) << h << b
                                  << QStringLiteral("HttpResponse: field 'status' must be an unsigned integer");
    QTest::newRow("status 99") << mapFrame(responseEntries(99)) << h << b
                               << QStringLiteral("HttpResponse: field 'status' must be in 100..999");
    QTest::newRow("status 1000") << mapFrame(responseEntries(1000)) << h << b
                                 << QStringLiteral("HttpResponse: field 'status' must be in 100..999");
    QTest::newRow("body as text") << mapFrame(with(base, QStringLiteral("body"), QStringLiteral("aGVsbG8="))) << h << b
                                  << QStringLiteral("HttpResponse: field 'body' must be a byte string");
    QTest::newRow("oversize body") << mapFrame(with(base, QStringLiteral("body"), QByteArray(101, 'x'))) << h << 100
                                   << QStringLiteral("HttpResponse: field 'body' exceeds 100 bytes");
    QTest::newRow("oversize header count") << mapFrame(with(base, QStringLiteral("headers"), headerArray(5))) << 4 << b
                                           << QStringLiteral("HttpResponse: field 'headers' has more than 4 entries");
    QTest::newRow("headers not array") << mapFrame(with(base, QStringLiteral("headers"), QCborMap{})) << h << b
                                       << QStringLiteral("HttpResponse: field 'headers' must be an array of [name, "
                                                         "value] byte-string pairs");
    QTest::newRow("header triple") << mapFrame(with(
        base, QStringLiteral("headers"), QCborArray{QCborArray{QByteArray("a"), QByteArray("b"), QByteArray("c")}}))
                                   << h << b
                                   << QStringLiteral(
                                          "HttpResponse: field 'headers' entries must be [name, value] arrays");
    QTest::newRow("header single")
        << mapFrame(with(base, QStringLiteral("headers"), QCborArray{QCborArray{QByteArray("a")}})) << h << b
        << QStringLiteral("HttpResponse: field 'headers' entries must be [name, value] arrays");
    QTest::newRow("header name text")
        << mapFrame(with(base, QStringLiteral("headers"), QCborArray{QCborArray{QStringLiteral("a"), QByteArray("b")}}))
        << h << b << QStringLiteral("HttpResponse: field 'headers' entries must be [name, value] byte-string pairs");
    QTest::newRow("header bytes over limit") << mapFrame(
        with(base, QStringLiteral("headers"), QCborArray{QCborArray{QByteArray("a"), QByteArray(256 * 1024, 'v')}}))
                                             << h << b
                                             << QStringLiteral("HttpResponse: field 'headers' exceeds 262144 bytes");
    QTest::newRow("duplicate id") << mapFrame(base + QList<Entry>{{QStringLiteral("id"), QByteArray("r2")}}) << h << b
                                  << QStringLiteral("HttpResponse: duplicate key 'id'");
    QTest::newRow("duplicate version") << mapFrame(base + QList<Entry>{{QStringLiteral("v"), kProtocolVersion}}) << h
                                       << b << QStringLiteral("HttpResponse: duplicate key 'v'");
    QTest::newRow("integer key") << mapFrame(base + QList<Entry>{{7, 1}}) << h << b
                                 << QStringLiteral("HttpResponse: map keys must be text strings");
    QTest::newRow("trailing garbage") << mapFrame(base) + QByteArray("\x00zz", 3) << h << b
                                      << QStringLiteral("HttpResponse: 3 trailing bytes after the map");
    QTest::newRow("two maps")
        << mapFrame(base) + mapFrame(base) << h << b
        << QStringLiteral("HttpResponse: %1 trailing bytes after the map").arg(mapFrame(base).size());

    QCborValue deep = 1;
    for (int i = 0; i < 20; ++i)
        deep = QCborArray{deep};
    QTest::newRow("deep unknown value") << mapFrame(base + QList<Entry>{{QStringLiteral("x"), deep}}) << h << b
                                        << QStringLiteral("HttpResponse: nesting deeper than 8 levels");
    // An unknown key whose value is an indefinite array of indefinite arrays, never closed.
    QByteArray abuse = mapFrame(base);
    abuse[0] = char(0xa5);
    abuse += QByteArray::fromHex("6178") + QByteArray(1000, '\x9f');
    QTest::newRow("indefinite nesting abuse")
        << abuse << h << b << QStringLiteral("HttpResponse: nesting deeper than 8 levels");
    // Declares a 2^62-byte body but carries 3 bytes: refused without allocating.
    QByteArray hugeBody = mapFrame(with(base, QStringLiteral("body"), QByteArray("abc")));
    hugeBody.chop(4);
    hugeBody += QByteArray::fromHex("5b4000000000000000") + "abc";
    QTest::newRow("declared huge body") << hugeBody << h << b << QStringLiteral("HttpResponse: field 'body' exceeds *");
    QByteArray gigaBody = hugeBody.left(hugeBody.size() - 12) + QByteArray::fromHex("5a40000000") + "abc";
    QTest::newRow("declared 1 GiB body, big limit") << gigaBody << h << std::numeric_limits<int>::max()
                                                    << QStringLiteral("HttpResponse: field 'body' is truncated");

    const QList<Entry> teardown = {
        {QStringLiteral("v"), kProtocolVersion}, {QStringLiteral("t"), 8}, {QStringLiteral("id"), QByteArray("w")}};
    QTest::newRow("close code 999") << mapFrame(teardown + QList<Entry>{{QStringLiteral("code"), 999}}) << h << b
                                    << QStringLiteral("WsTeardown: field 'code' must be in 1000..4999");
    QTest::newRow("close code 5000") << mapFrame(teardown + QList<Entry>{{QStringLiteral("code"), 5000}}) << h << b
                                     << QStringLiteral("WsTeardown: field 'code' must be in 1000..4999");
    QTest::newRow("reason as bytes") << mapFrame(teardown + QList<Entry>{{QStringLiteral("reason"), QByteArray("x")}})
                                     << h << b << QStringLiteral("WsTeardown: field 'reason' must be a text string");
    QByteArray badUtf8 = mapFrame(teardown + QList<Entry>{{QStringLiteral("reason"), QStringLiteral("ab")}});
    badUtf8[badUtf8.size() - 1] = char(0xff);
    QTest::newRow("reason invalid utf-8")
        << badUtf8 << h << b << QStringLiteral("WsTeardown: invalid CBOR in field 'reason': *");

    const QList<Entry> registration = {{QStringLiteral("v"), kProtocolVersion}, {QStringLiteral("t"), 2}};
    QTest::newRow("accepted as int") << mapFrame(registration + QList<Entry>{{QStringLiteral("accepted"), 1}}) << h << b
                                     << QStringLiteral("RegistrationResponse: field 'accepted' must be a boolean");
    QTest::newRow("accepted missing") << mapFrame(registration) << h << b
                                      << QStringLiteral("RegistrationResponse: missing required field 'accepted'");
    QTest::newRow("ping without nonce") << mapFrame({{QStringLiteral("v"), kProtocolVersion}, {QStringLiteral("t"), 9}})
                                        << h << b << QStringLiteral("Ping: missing required field 'nonce'");
    QTest::newRow("empty token") << mapFrame(
        {{QStringLiteral("v"), kProtocolVersion}, {QStringLiteral("t"), 1}, {QStringLiteral("token"), QByteArray()}})
                                 << h << b << QStringLiteral("RegistrationRequest: field 'token' must not be empty");
    QTest::newRow("long key") << mapFrame(base + QList<Entry>{{QString(100, QLatin1Char('k')), 1}}) << h << b
                              << QStringLiteral("HttpResponse: map key longer than 64 bytes");
}

void TestCodec::malformed()
{
    QFETCH(QByteArray, frame);
    QFETCH(int, maxHeaders);
    QFETCH(int, maxBody);
    QFETCH(QString, error);

    DecodeLimits limits;
    limits.maxHeaders = maxHeaders;
    limits.maxBodyBytes = maxBody;
    const DecodeResult result = Codec::decode(frame, limits);
    QVERIFY2(!result, qPrintable(describe(*result.message)));
    QVERIFY(!result.error.isEmpty());
    QVERIFY2(!result.error.contains(QLatin1Char('\n')), qPrintable(result.error));
    const qsizetype star = error.indexOf(QLatin1Char('*'));
    if (star < 0)
        QCOMPARE(result.error, error);
    else
        QVERIFY2(result.error.startsWith(error.left(star)), qPrintable(result.error));
}

void TestCodec::truncatedFramesFail()
{
    for (const Message &message : sampleMessages()) {
        const QByteArray frame = Codec::encode(message);
        QVERIFY(Codec::decode(frame));
        for (qsizetype len = 0; len < frame.size(); ++len) {
            const DecodeResult result = Codec::decode(frame.left(len));
            QVERIFY2(!result,
                     qPrintable(QStringLiteral("%1 truncated to %2 bytes decoded")
                                    .arg(QLatin1String(messageTypeName(messageType(message))))
                                    .arg(len)));
            QVERIFY(!result.error.isEmpty());
        }
    }
    // And a large frame, at a few cut points through the body.
    const QByteArray big = Codec::encode(HttpResponse{"r", 200, cookieHeaders(), patterned(500 * 1000)});
    for (qsizetype len : {qsizetype(1), qsizetype(40), big.size() / 2, big.size() - 1})
        QVERIFY(!Codec::decode(big.left(len)));
}

void TestCodec::trailingBytesFail()
{
    for (const Message &message : sampleMessages()) {
        for (const QByteArray &tail :
             {QByteArray(1, '\0'), QByteArray(1, '\xff'), QByteArray("\xa0"), Codec::encode(Ping{1})}) {
            const DecodeResult result = Codec::decode(Codec::encode(message) + tail);
            QVERIFY(!result);
            QVERIFY2(result.error.contains(QLatin1String("trailing bytes")), qPrintable(result.error));
        }
    }
}

void TestCodec::fuzzFlippedBytes()
{
    const QList<Message> samples = sampleMessages();
    QList<QByteArray> frames;
    for (const Message &m : samples)
        frames << Codec::encode(m);

    // KEYHOLE_FUZZ_ITERATIONS runs a longer campaign by hand; the seed stays fixed.
    const int iterations = qEnvironmentVariableIsSet("KEYHOLE_FUZZ_ITERATIONS")
        ? qEnvironmentVariableIntValue("KEYHOLE_FUZZ_ITERATIONS")
        : 10000;
    QRandomGenerator rng(20260101);
    int decoded = 0;
    for (int i = 0; i < iterations; ++i) {
        QByteArray frame = frames.at(int(rng.bounded(quint32(frames.size()))));
        const int flips = 1 + int(rng.bounded(4u));
        for (int f = 0; f < flips; ++f) {
            const auto pos = qsizetype(rng.bounded(quint32(frame.size())));
            frame[pos] = char(rng.bounded(256u));
        }
        if (rng.bounded(8u) == 0)
            frame.truncate(qsizetype(rng.bounded(quint32(frame.size()))));
        const DecodeResult result = Codec::decode(frame);
        if (result) {
            ++decoded;
            QVERIFY(result.error.isEmpty());
            // Whatever decodes must survive its own round trip.
            const DecodeResult again = Codec::decode(Codec::encode(*result.message));
            QVERIFY2(again, qPrintable(again.error));
            QCOMPARE(describe(*again.message), describe(*result.message));
        } else {
            QVERIFY(!result.error.isEmpty());
        }
    }
    qDebug("fuzz: %d of %d mutated frames still decoded", decoded, iterations);
}

void TestCodec::partsJoinToTheFrame_data()
{
    roundTrip_data();
}

// Every message, in parts, is the same bytes as encoded whole.
void TestCodec::partsJoinToTheFrame()
{
    QFETCH(Message, message);
    const EncodedFrame parts = Codec::encodeParts(message);
    QCOMPARE(parts.size(), parts.joined().size());
    QCOMPARE(parts.joined(), Codec::encode(message));
    if (parts.body.isEmpty())
        QVERIFY(parts.tail.isEmpty());
}

void TestCodec::partsShareLargeBodies_data()
{
    QTest::addColumn<Message>("message");
    QTest::addColumn<QByteArray>("body");
    QTest::addColumn<bool>("split");

    const qsizetype at = EncodedFrame::kSplitBodyBytes;
    for (qsizetype size : QList<qsizetype>{at - 1, at, at + 1, at + 3, qsizetype(100 * 1024 + 1)}) {
        const QByteArray body = patterned(size);
        const bool split = size >= at;
        QTest::addRow("response %lld", qint64(size))
            << Message(HttpResponse{"r", 200, cookieHeaders(), body}) << body << split;
        QTest::addRow("streamed response %lld", qint64(size))
            << Message(HttpResponse{"r", 200, {}, body, true}) << body << split;
        QTest::addRow("body chunk, end %lld", qint64(size)) << Message(HttpBody{"r7", body, true}) << body << split;
        HttpRequest post;
        post.id = "odd";
        post.method = "POST";
        post.path = "/p";
        post.body = body;
        post.remoteAddress = QStringLiteral("203.0.113.9");
        post.streamed = true;
        QTest::addRow("request with fields after the body %lld", qint64(size)) << Message(post) << body << split;
        QTest::addRow("ws message %lld", qint64(size)) << Message(WsMessage{"w", true, body}) << body << split;
    }
}

// A body of the split size or more is the message's own bytes, not a copy; the parts still join to
// the frame.
void TestCodec::partsShareLargeBodies()
{
    QFETCH(Message, message);
    QFETCH(QByteArray, body);
    QFETCH(bool, split);
    const EncodedFrame parts = Codec::encodeParts(message);
    QCOMPARE(parts.joined(), Codec::encode(message));
    if (!split) {
        QVERIFY(parts.body.isEmpty());
        QVERIFY(parts.tail.isEmpty());
        return;
    }
    QCOMPARE(parts.body.size(), body.size());
    // The message's field and `body` share one allocation; so must the part.
    QCOMPARE(static_cast<const void *>(parts.body.constData()), static_cast<const void *>(body.constData()));
    QVERIFY(parts.head.size() < 512);
}

void TestCodec::largeBodiesShareTheDecodedFrame_data()
{
    QTest::addColumn<QByteArray>("id"); // its length moves the body to odd offsets in the frame
    QTest::addColumn<qsizetype>("size");

    for (const QByteArray &id : {QByteArray("r"), QByteArray("ab"), QByteArray("xyz"), QByteArray("0123456")}) {
        for (qsizetype size : {qsizetype(0), qsizetype(1), CborReader::kShareBytes - 1, CborReader::kShareBytes,
                               CborReader::kShareBytes + 1, qsizetype(100 * 1024 + 3)})
            QTest::addRow("id %s, %lld bytes", id.constData(), qint64(size)) << id << size;
    }
}

// A decoded body of kShareBytes or more points into the frame instead of copying it; it stays valid
// after the frame is gone, and changing either one leaves the other as it was.
void TestCodec::largeBodiesShareTheDecodedFrame()
{
    QFETCH(QByteArray, id);
    QFETCH(qsizetype, size);
    const QByteArray body = patterned(size);
    const auto decodeFrom = [](const QByteArray &frame) {
        const DecodeResult result = Codec::decode(frame);
        return result ? std::get<HttpBody>(*result.message).data : QByteArray("decode failed");
    };

    auto frame = std::make_unique<QByteArray>(Codec::encode(HttpBody{id, body, true}));
    frame->detach(); // its own allocation, as a frame read from a socket has
    QByteArray decoded = decodeFrom(*frame);
    QCOMPARE(decoded, body);
    const char *begin = frame->constData();
    const bool inside = decoded.constData() >= begin && decoded.constData() < begin + frame->size();
    QCOMPARE(inside, size >= CborReader::kShareBytes);
    frame.reset(); // the body keeps what it points into alive
    QCOMPARE(decoded, body);
    decoded.append("tail"); // past the slice, once it holds the last reference: the frame's bytes are free
    QCOMPARE(decoded, body + "tail");

    if (size == 0)
        return;
    const QByteArray shared = Codec::encode(HttpBody{id, body, true});
    const QByteArray copy(shared.constData(), shared.size());
    QByteArray changed = decodeFrom(shared);
    changed[0] = char(~changed.at(0)); // detaches from the frame
    QCOMPARE(shared, copy);
    QCOMPARE(changed.mid(1), body.mid(1));
    QCOMPARE(decodeFrom(shared), body);
}

// The headers of a request or an answer in a small frame point into it (no allocation each); those
// of a large frame, and the fields of messages kept longer (a WebSocket's request, here), do not.
void TestCodec::smallExchangesShareTheirFrame()
{
    const auto pointsInto = [](const QByteArray &part, const QByteArray &frame) {
        return part.constData() >= frame.constData() && part.constData() < frame.constData() + frame.size();
    };
    const HeaderList headers = {{"Content-Type", "text/plain"}, {"X-Trace", "abc"}};

    QByteArray small = Codec::encode(HttpResponse{"r1", 200, headers, "hello"});
    small.detach();
    QVERIFY(small.capacity() <= CborReader::kSmallFrameBytes);
    DecodeResult result = Codec::decode(small);
    QVERIFY(result);
    HttpResponse response = std::get<HttpResponse>(*result.message);
    QCOMPARE(response.headers, headers);
    QCOMPARE(response.body, QByteArray("hello"));
    QVERIFY(pointsInto(response.id, small));
    QVERIFY(pointsInto(response.headers.at(1).second, small));
    QVERIFY(pointsInto(response.body, small));
    small.fill('x'); // the frame's owner writes: the decoded message detached nothing, so it copies
    QCOMPARE(response.headers, headers);
    QCOMPARE(response.id, QByteArray("r1"));

    QByteArray request = Codec::encode(HttpRequest{"q1", "GET", "/a", "", headers, {}, QStringLiteral("::1")});
    request.detach();
    result = Codec::decode(request);
    QVERIFY(result);
    QVERIFY(pointsInto(std::get<HttpRequest>(*result.message).headers.at(0).first, request));

    QByteArray large = Codec::encode(HttpResponse{"r2", 200, headers, patterned(CborReader::kSmallFrameBytes)});
    large.detach();
    result = Codec::decode(large);
    QVERIFY(result);
    response = std::get<HttpResponse>(*result.message);
    QCOMPARE(response.headers, headers);
    QVERIFY(!pointsInto(response.headers.at(0).second, large));
    QVERIFY(pointsInto(response.body, large)); // kShareBytes or more: shared whatever the frame

    QByteArray socket = Codec::encode(WsRequest{"w1", "/socket", "", headers, QStringLiteral("1.2.3.4")});
    socket.detach();
    result = Codec::decode(socket);
    QVERIFY(result);
    const WsRequest ws = std::get<WsRequest>(*result.message);
    QCOMPARE(ws.headers, headers);
    QVERIFY(!pointsInto(ws.headers.at(0).second, socket));
}

void TestCodec::benchmarkEncode100KiB()
{
    const Message message = HttpResponse{"r", 200, cookieHeaders(), patterned(100 * 1024)};
    QByteArray frame;
    QBENCHMARK
    {
        frame = Codec::encode(message);
    }
    QVERIFY(frame.size() > 100 * 1024);
}

void TestCodec::benchmarkDecode100KiB()
{
    const QByteArray frame = Codec::encode(HttpResponse{"r", 200, cookieHeaders(), patterned(100 * 1024)});
    QBENCHMARK
    {
        const DecodeResult result = Codec::decode(frame);
        QVERIFY(result);
    }
}

QTEST_GUILESS_MAIN(TestCodec)
#include "TestCodec.moc"
