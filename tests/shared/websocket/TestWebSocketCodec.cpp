#include "websocket/Masking.h"
#include "websocket/MessageDecoder.h"
#include "websocket/WebSocketFrame.h"

#include <QBuffer>
#include <QRandomGenerator>
#include <QTest>

using namespace keyhole::websocket;

Q_DECLARE_METATYPE(keyhole::websocket::Role)

namespace {

const MaskKey kKey = {0x37, 0xfa, 0x21, 0x3d};

// One frame as a peer in `from` would send it: masked when a client sends.
QByteArray frame(Opcode opcode, const QByteArray &payload, Role from, bool fin = true)
{
    char header[kMaxFrameHeaderBytes];
    const int size = encodeFrameHeader(header, opcode, quint64(payload.size()), fin,
                                       from == Role::Client ? &kKey : nullptr);
    QByteArray out(header, size);
    QByteArray body = payload;
    if (from == Role::Client)
        applyMask(body.data(), body.size(), kKey, 0);
    return out + body;
}

QByteArray closePayload(quint16 code, const QByteArray &reason = {})
{
    QByteArray p;
    p.append(char(code >> 8)).append(char(code & 0xFF));
    return p + reason;
}

QByteArray randomBytes(qsizetype n)
{
    QByteArray b(n, Qt::Uninitialized);
    for (qsizetype i = 0; i < n; ++i)
        b[i] = char(QRandomGenerator::global()->bounded(256));
    return b;
}

// Everything the decoder yields, then its error (0 when none).
struct Decoded {
    QList<Message> messages;
    quint16 error = 0;
};

Decoded decodeAll(Role role, const QByteArray &bytes, qint64 max = 1 << 24, bool byteAtATime = false)
{
    MessageDecoder decoder(role, max);
    Decoded out;
    auto drain = [&] {
        while (auto m = decoder.next())
            out.messages.append(*m);
    };
    if (byteAtATime) {
        for (char c : bytes) {
            decoder.feed(QByteArray(1, c));
            drain();
        }
    } else {
        decoder.feed(bytes);
        drain();
    }
    out.error = decoder.error();
    return out;
}

QString describe(const Message &m)
{
    return QStringLiteral("op=%1 payload=%2 text=%3 code=%4")
        .arg(int(m.opcode))
        .arg(m.payload.size() <= 32 ? QString::fromLatin1(m.payload.toHex()) : QString::number(qHash(m.payload)))
        .arg(m.text.left(32))
        .arg(m.closeCode);
}

QStringList describeAll(const Decoded &d)
{
    QStringList out;
    for (const Message &m : d.messages)
        out << describe(m);
    out << QStringLiteral("error=%1").arg(d.error);
    return out;
}

} // namespace

class TestWebSocketCodec : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testRfc6455Examples_data();
    void testRfc6455Examples();
    void testRfc6455FragmentedExample();
    void testHeaderLengthEncoding_data();
    void testHeaderLengthEncoding();
    void testMaskingRoundTrip_data();
    void testMaskingRoundTrip();
    void testFragmentationWithInterleavedControlFrames();
    void testCloseFrames();
    void testProtocolErrors_data();
    void testProtocolErrors();
    void testMaxSizeCheckedBeforeAllocating();
    void testFragmentsCountTowardsMaxSize();
    void testByteAtATimeGivesIdenticalResults();
    void testReadingFromADeviceGivesIdenticalResults();
    void testInvalidUtf8AcrossFragments();
};

// RFC 6455 section 5.7, byte for byte: the other tests feed the decoder frames our own encoder made, so an
// error both share would pass there; these bytes come from the RFC, not from the code under test.
void TestWebSocketCodec::testRfc6455Examples_data()
{
    QTest::addColumn<QByteArray>("wire");
    QTest::addColumn<int>("opcode");
    QTest::addColumn<QByteArray>("payload");
    QTest::addColumn<bool>("masked");
    QTest::newRow("unmasked text") << QByteArray::fromHex("810548656c6c6f") << int(Opcode::Text) << QByteArray("Hello")
                                   << false;
    QTest::newRow("masked text") << QByteArray::fromHex("818537fa213d7f9f4d5158") << int(Opcode::Text)
                                 << QByteArray("Hello") << true;
    QTest::newRow("unmasked ping") << QByteArray::fromHex("890548656c6c6f") << int(Opcode::Ping) << QByteArray("Hello")
                                   << false;
    QTest::newRow("masked pong") << QByteArray::fromHex("8a8537fa213d7f9f4d5158") << int(Opcode::Pong)
                                 << QByteArray("Hello") << true;
    QTest::newRow("256 bytes binary") << QByteArray::fromHex("827e0100") + QByteArray(256, 'z') << int(Opcode::Binary)
                                      << QByteArray(256, 'z') << false;
    QTest::newRow("64 KiB binary") << QByteArray::fromHex("827f0000000000010000") + QByteArray(65536, 'q')
                                   << int(Opcode::Binary) << QByteArray(65536, 'q') << false;
}

void TestWebSocketCodec::testRfc6455Examples()
{
    QFETCH(QByteArray, wire);
    QFETCH(int, opcode);
    QFETCH(QByteArray, payload);
    QFETCH(bool, masked);
    char header[kMaxFrameHeaderBytes];
    const int size = encodeFrameHeader(header, Opcode(opcode), quint64(payload.size()), true, masked ? &kKey : nullptr);
    QByteArray body = payload;
    if (masked)
        applyMask(body.data(), body.size(), kKey, 0);
    QCOMPARE((QByteArray(header, size) + body).toHex(), wire.toHex());

    const Decoded d = decodeAll(masked ? Role::Server : Role::Client, wire);
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages.size(), 1);
    QCOMPARE(int(d.messages.first().opcode), opcode);
    if (Opcode(opcode) == Opcode::Text)
        QCOMPARE(d.messages.first().text, QString::fromUtf8(payload));
    else
        QCOMPARE(d.messages.first().payload, payload);
}

void TestWebSocketCodec::testRfc6455FragmentedExample()
{
    // "Hel" then "lo", unmasked (RFC 6455 section 5.7).
    const Decoded d = decodeAll(Role::Client,
                                QByteArray::fromHex("010348656c"
                                                    "80026c6f"));
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages.size(), 1);
    QCOMPARE(d.messages.first().opcode, Opcode::Text);
    QCOMPARE(d.messages.first().text, QStringLiteral("Hello"));
}

void TestWebSocketCodec::testHeaderLengthEncoding_data()
{
    QTest::addColumn<qint64>("length");
    QTest::addColumn<int>("headerSize");
    QTest::addColumn<int>("len7");
    for (const bool masked : {false, true}) {
        const int extra = masked ? 4 : 0;
        const char *m = masked ? " masked" : "";
        QTest::addRow("0%s", m) << qint64(0) << 2 + extra << 0;
        QTest::addRow("125%s", m) << qint64(125) << 2 + extra << 125;
        QTest::addRow("126%s", m) << qint64(126) << 4 + extra << 126;
        QTest::addRow("65535%s", m) << qint64(65535) << 4 + extra << 126;
        QTest::addRow("65536%s", m) << qint64(65536) << 10 + extra << 127;
    }
}

void TestWebSocketCodec::testHeaderLengthEncoding()
{
    QFETCH(qint64, length);
    QFETCH(int, headerSize);
    QFETCH(int, len7);
    const bool masked = QByteArray(QTest::currentDataTag()).endsWith("masked");
    char header[kMaxFrameHeaderBytes];
    const int size = encodeFrameHeader(header, Opcode::Binary, quint64(length), true, masked ? &kKey : nullptr);
    QCOMPARE(size, headerSize);
    QCOMPARE(uchar(header[0]), uchar(0x82));
    QCOMPARE(uchar(header[1]) & 0x7F, len7);
    QCOMPARE(bool(uchar(header[1]) & 0x80), masked);
    quint64 decodedLength = quint64(len7);
    if (len7 == 126)
        decodedLength = quint64(uchar(header[2])) << 8 | uchar(header[3]);
    if (len7 == 127) {
        decodedLength = 0;
        for (int i = 0; i < 8; ++i)
            decodedLength = decodedLength << 8 | uchar(header[2 + i]);
    }
    QCOMPARE(decodedLength, quint64(length));
    if (masked) // the masking key follows the length
        QCOMPARE(QByteArray(header + size - 4, 4), QByteArray(reinterpret_cast<const char *>(kKey.data()), 4));

    // And the decoder agrees, in the role that expects this masking.
    const QByteArray payload = randomBytes(length);
    const Role from = masked ? Role::Client : Role::Server;
    const Decoded d = decodeAll(masked ? Role::Server : Role::Client, frame(Opcode::Binary, payload, from));
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages.size(), 1);
    QCOMPARE(d.messages.first().opcode, Opcode::Binary);
    QCOMPARE(d.messages.first().payload, payload);
}

void TestWebSocketCodec::testMaskingRoundTrip_data()
{
    QTest::addColumn<int>("length");
    for (int length :
         {0, 1, 2, 3, 4, 5, 7, 8, 9, 15, 16, 17, 31, 32, 33, 39, 40, 63, 64, 65, 71, 95, 97, 125, 1001, 65537})
        QTest::addRow("%d", length) << length;
}

void TestWebSocketCodec::testMaskingRoundTrip()
{
    QFETCH(int, length);
    const QByteArray original = randomBytes(length + 16);
    for (int offset = 0; offset < 8; ++offset) { // every alignment of the buffer
        for (int phase = 0; phase < 4; ++phase) {
            const char *src = original.constData() + offset;
            QByteArray reference(length, Qt::Uninitialized);
            for (int i = 0; i < length; ++i)
                reference[i] = char(uchar(src[i]) ^ kKey[size_t((phase + i) & 3)]);

            QByteArray masked(length + 8, '\0');
            copyMasked(masked.data() + (7 - offset), src, length, kKey, phase);
            QCOMPARE(masked.mid(7 - offset, length), reference);

            QByteArray inPlace = original;
            applyMask(inPlace.data() + offset, length, kKey, phase);
            QCOMPARE(inPlace.mid(offset, length), reference);
            applyMask(inPlace.data() + offset, length, kKey, phase);
            QCOMPARE(inPlace, original);
        }
    }
    // Masking in pieces with the running phase equals masking at once.
    QByteArray whole = original.left(length);
    applyMask(whole.data(), whole.size(), kKey, 0);
    QByteArray pieces = original.left(length);
    for (int pos = 0, step = 1; pos < length; pos += step, step = step % 11 + 2)
        applyMask(pieces.data() + pos, qMin(step, length - pos), kKey, pos & 3);
    QCOMPARE(pieces, whole);
}

void TestWebSocketCodec::testFragmentationWithInterleavedControlFrames()
{
    const QByteArray text = QStringLiteral("grüße, ").repeated(30).toUtf8();
    QByteArray stream = frame(Opcode::Text, text.left(10), Role::Client, false)
        + frame(Opcode::Ping, "p1", Role::Client) + frame(Opcode::Continuation, text.mid(10, 100), Role::Client, false)
        + frame(Opcode::Pong, "p2", Role::Client) + frame(Opcode::Continuation, text.mid(110), Role::Client, true)
        + frame(Opcode::Binary, "x", Role::Client, false)
        + frame(Opcode::Continuation, QByteArray(), Role::Client, false)
        + frame(Opcode::Continuation, "yz", Role::Client, true);
    const Decoded d = decodeAll(Role::Server, stream);
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages.size(), 4);
    QCOMPARE(d.messages[0].opcode, Opcode::Ping);
    QCOMPARE(d.messages[0].payload, QByteArray("p1"));
    QCOMPARE(d.messages[1].opcode, Opcode::Pong);
    QCOMPARE(d.messages[1].payload, QByteArray("p2"));
    QCOMPARE(d.messages[2].opcode, Opcode::Text);
    QCOMPARE(d.messages[2].text, QString::fromUtf8(text));
    QCOMPARE(d.messages[3].opcode, Opcode::Binary);
    QCOMPARE(d.messages[3].payload, QByteArray("xyz"));
}

void TestWebSocketCodec::testCloseFrames()
{
    Decoded d = decodeAll(Role::Client, frame(Opcode::Close, closePayload(4001, "bye ✓"), Role::Server));
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages.size(), 1);
    QCOMPARE(d.messages[0].opcode, Opcode::Close);
    QCOMPARE(d.messages[0].closeCode, quint16(4001));
    QCOMPARE(d.messages[0].text, QStringLiteral("bye ✓"));

    d = decodeAll(Role::Client, frame(Opcode::Close, QByteArray(), Role::Server));
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages[0].closeCode, quint16(CloseNoStatus));
}

void TestWebSocketCodec::testProtocolErrors_data()
{
    QTest::addColumn<Role>("role");
    QTest::addColumn<QByteArray>("bytes");
    QTest::addColumn<int>("code");

    const QByteArray hello = frame(Opcode::Binary, "hello", Role::Client);
    QByteArray rsv1 = hello, rsv2 = hello, rsv3 = hello;
    rsv1[0] = char(rsv1[0] | 0x40);
    rsv2[0] = char(rsv2[0] | 0x20);
    rsv3[0] = char(rsv3[0] | 0x10);
    QTest::newRow("RSV1 without extension") << Role::Server << rsv1 << 1002;
    QTest::newRow("RSV2") << Role::Server << rsv2 << 1002;
    QTest::newRow("RSV3") << Role::Server << rsv3 << 1002;
    QTest::newRow("unmasked frame to a server") << Role::Server << frame(Opcode::Binary, "x", Role::Server) << 1002;
    QTest::newRow("masked frame to a client") << Role::Client << frame(Opcode::Binary, "x", Role::Client) << 1002;
    QTest::newRow("control frame over 125 bytes")
        << Role::Server << frame(Opcode::Ping, QByteArray(126, 'p'), Role::Client) << 1002;
    QTest::newRow("fragmented control frame") << Role::Server << frame(Opcode::Ping, "p", Role::Client, false) << 1002;
    QTest::newRow("continuation without a message")
        << Role::Server << frame(Opcode::Continuation, "x", Role::Client) << 1002;
    QTest::newRow("new message inside a fragmented one")
        << Role::Server << frame(Opcode::Binary, "a", Role::Client, false) + frame(Opcode::Binary, "b", Role::Client)
        << 1002;
    QTest::newRow("reserved data opcode 3") << Role::Client << QByteArray::fromHex("8300") << 1002;
    QTest::newRow("reserved control opcode 0xB") << Role::Client << QByteArray::fromHex("8b00") << 1002;
    QTest::newRow("64-bit length with MSB set") << Role::Client << QByteArray::fromHex("827f8000000000000001") << 1002;
    QTest::newRow("16-bit length under 126")
        << Role::Client << QByteArray::fromHex("827e007d") + QByteArray(125, 'a') << 1002;
    QTest::newRow("64-bit length under 65536") << Role::Client << QByteArray::fromHex("827f000000000000ffff") << 1002;
    QTest::newRow("text not UTF-8") << Role::Server << frame(Opcode::Text, "\xc3\x28", Role::Client) << 1007;
    QTest::newRow("text with a surrogate") << Role::Server << frame(Opcode::Text, "\xed\xa0\x80", Role::Client) << 1007;
    QTest::newRow("text overlong") << Role::Server << frame(Opcode::Text, "\xc0\xaf", Role::Client) << 1007;
    QTest::newRow("text past U+10FFFF") << Role::Server << frame(Opcode::Text, "\xf4\x90\x80\x80", Role::Client)
                                        << 1007;
    QTest::newRow("close with one byte") << Role::Client << frame(Opcode::Close, "\x03", Role::Server) << 1002;
    QTest::newRow("close code 999") << Role::Client << frame(Opcode::Close, closePayload(999), Role::Server) << 1002;
    QTest::newRow("close code 1005") << Role::Client << frame(Opcode::Close, closePayload(1005), Role::Server) << 1002;
    QTest::newRow("close code 1006") << Role::Client << frame(Opcode::Close, closePayload(1006), Role::Server) << 1002;
    QTest::newRow("close code 2000") << Role::Client << frame(Opcode::Close, closePayload(2000), Role::Server) << 1002;
    QTest::newRow("close code 5000") << Role::Client << frame(Opcode::Close, closePayload(5000), Role::Server) << 1002;
    QTest::newRow("close reason not UTF-8")
        << Role::Client << frame(Opcode::Close, closePayload(1000, "\xff"), Role::Server) << 1007;
    QTest::newRow("message over the limit")
        << Role::Server << frame(Opcode::Binary, QByteArray(1025, 'b'), Role::Client) << 1009;
}

void TestWebSocketCodec::testProtocolErrors()
{
    QFETCH(Role, role);
    QFETCH(QByteArray, bytes);
    QFETCH(int, code);
    // A valid message first: it is still delivered; nothing after the violation is.
    const QByteArray before = frame(Opcode::Binary, "ok", role == Role::Server ? Role::Client : Role::Server);
    const QByteArray after = before;
    for (const bool byteAtATime : {false, true}) {
        const Decoded d = decodeAll(role, before + bytes + after, 1024, byteAtATime);
        QCOMPARE(d.error, quint16(code));
        QCOMPARE(d.messages.size(), 1);
        QCOMPARE(d.messages.first().payload, QByteArray("ok"));
    }
}

void TestWebSocketCodec::testMaxSizeCheckedBeforeAllocating()
{
    // A header that announces 2^62 bytes fails as soon as the header is complete: no payload is
    // needed and nothing of that size is allocated (which would abort the test).
    MessageDecoder decoder(Role::Client, 1 << 20);
    decoder.feed(QByteArray::fromHex("827f4000000000000000"));
    QVERIFY(!decoder.next());
    QCOMPARE(decoder.error(), quint16(CloseTooBig));

    MessageDecoder justUnder(Role::Client, 1 << 20);
    justUnder.feed(frame(Opcode::Binary, QByteArray(1 << 20, 'a'), Role::Server));
    const auto message = justUnder.next();
    QVERIFY(message);
    QCOMPARE(message->payload.size(), 1 << 20);
}

void TestWebSocketCodec::testFragmentsCountTowardsMaxSize()
{
    const QByteArray stream = frame(Opcode::Binary, QByteArray(600, 'a'), Role::Server, false)
        + frame(Opcode::Continuation, QByteArray(424, 'b'), Role::Server, false)
        + frame(Opcode::Continuation, QByteArray(1, 'c'), Role::Server, true);
    QCOMPARE(decodeAll(Role::Client, stream, 1024).error, quint16(CloseTooBig));
    const Decoded fits = decodeAll(Role::Client, stream, 1025);
    QCOMPARE(fits.error, quint16(0));
    QCOMPARE(fits.messages.size(), 1);
    QCOMPARE(fits.messages[0].payload, QByteArray(600, 'a') + QByteArray(424, 'b') + "c");
}

void TestWebSocketCodec::testByteAtATimeGivesIdenticalResults()
{
    for (const Role reader : {Role::Server, Role::Client}) {
        const Role from = reader == Role::Server ? Role::Client : Role::Server;
        QByteArray stream;
        for (int size : {0, 1, 7, 125, 126, 127, 1000, 65535, 65536, 70001})
            stream += frame(Opcode::Binary, randomBytes(size), from);
        stream += frame(Opcode::Text, "abc", from, false) + frame(Opcode::Ping, "in between", from)
            + frame(Opcode::Continuation, "déf", from);
        stream += frame(Opcode::Pong, randomBytes(125), from);
        stream += frame(Opcode::Close, closePayload(1001, "going"), from);

        const Decoded whole = decodeAll(reader, stream);
        const Decoded single = decodeAll(reader, stream, 1 << 24, true);
        QCOMPARE(whole.error, quint16(0));
        QCOMPARE(whole.messages.size(), 14);
        QCOMPARE(describeAll(single), describeAll(whole));
        for (int i = 0; i < whole.messages.size(); ++i)
            QCOMPARE(single.messages[i].payload, whole.messages[i].payload);

        // Random chunk sizes too.
        MessageDecoder decoder(reader, 1 << 24);
        Decoded chunked;
        for (qsizetype pos = 0; pos < stream.size();) {
            const qsizetype n = qMin<qsizetype>(QRandomGenerator::global()->bounded(1, 5000), stream.size() - pos);
            decoder.feed(stream.mid(pos, n));
            pos += n;
            while (auto m = decoder.next())
                chunked.messages.append(*m);
        }
        QCOMPARE(describeAll(chunked), describeAll(whole));
    }
}

void TestWebSocketCodec::testReadingFromADeviceGivesIdenticalResults()
{
    QByteArray stream;
    for (int size : {0, 3, 125, 126, 65536, 100 * 1024})
        stream += frame(Opcode::Binary, randomBytes(size), Role::Client);
    stream += frame(Opcode::Text, "ab", Role::Client, false) + frame(Opcode::Ping, "p", Role::Client)
        + frame(Opcode::Continuation, "c", Role::Client);
    const Decoded whole = decodeAll(Role::Server, stream);
    QCOMPARE(whole.messages.size(), 8);

    // Some bytes fed (as after a handshake), the rest read from the device as it "arrives".
    MessageDecoder decoder(Role::Server, 1 << 24);
    decoder.feed(stream.left(5));
    QBuffer device;
    device.open(QIODevice::ReadWrite);
    Decoded read;
    for (qsizetype pos = 5; pos < stream.size();) {
        const qsizetype n = qMin<qsizetype>(QRandomGenerator::global()->bounded(1, 40000), stream.size() - pos);
        const qint64 at = device.pos();
        device.seek(device.size());
        device.write(stream.mid(pos, n));
        device.seek(at);
        pos += n;
        while (auto m = decoder.next(&device))
            read.messages.append(*m);
    }
    QCOMPARE(device.bytesAvailable(), 0);
    QCOMPARE(describeAll(read), describeAll(whole));
    for (int i = 0; i < whole.messages.size(); ++i)
        QCOMPARE(read.messages[i].payload, whole.messages[i].payload);
}

void TestWebSocketCodec::testInvalidUtf8AcrossFragments()
{
    // A sequence split across fragments is fine; one left unfinished at the end is not.
    const QByteArray ok = frame(Opcode::Text, "\xe2\x82", Role::Client, false)
        + frame(Opcode::Continuation, "\xac", Role::Client, true);
    const Decoded d = decodeAll(Role::Server, ok);
    QCOMPARE(d.error, quint16(0));
    QCOMPARE(d.messages[0].text, QStringLiteral("€"));
    const QByteArray truncated = frame(Opcode::Text, "a", Role::Client, false)
        + frame(Opcode::Continuation, "\xe2\x82", Role::Client, true);
    QCOMPARE(decodeAll(Role::Server, truncated).error, quint16(CloseInvalidPayload));
}

QTEST_GUILESS_MAIN(TestWebSocketCodec)
#include "TestWebSocketCodec.moc"
