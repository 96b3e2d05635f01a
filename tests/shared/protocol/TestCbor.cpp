// CborReader and CborWriter against Qt's own CBOR implementation: what ours writes, Qt reads back
// identically; what Qt writes (including indefinite lengths, tags, floats), ours walks to the end.

#include "protocol/CborReader.h"
#include "protocol/CborWriter.h"

#include <QCborArray>
#include <QCborMap>
#include <QCborStreamWriter>
#include <QCborValue>
#include <QRandomGenerator>
#include <QtTest>

using keyhole::protocol::CborReader;
using keyhole::protocol::CborWriter;

namespace {

// Walks one item the way the frame decoder does and returns it as a QCborValue (strings as read).
QCborValue walk(CborReader &r)
{
    switch (r.type()) {
    case CborReader::Type::UnsignedInteger: {
        const QCborValue v(qint64(r.toUnsignedInteger()));
        return r.next() ? v : QCborValue(QCborValue::Invalid);
    }
    case CborReader::Type::ByteString:
    case CborReader::Type::TextString: {
        const bool text = r.isString();
        QByteArray bytes;
        if (r.readString(&bytes, 1 << 20) != CborReader::StringStatus::Ok)
            return QCborValue(QCborValue::Invalid);
        return text ? QCborValue(QString::fromUtf8(bytes)) : QCborValue(bytes);
    }
    case CborReader::Type::Array: {
        QCborArray array;
        if (!r.enterContainer())
            return QCborValue(QCborValue::Invalid);
        while (r.hasNext())
            array.append(walk(r));
        return r.leaveContainer() ? QCborValue(array) : QCborValue(QCborValue::Invalid);
    }
    case CborReader::Type::Map: {
        QCborMap map;
        if (!r.enterContainer())
            return QCborValue(QCborValue::Invalid);
        while (r.hasNext()) {
            const QCborValue key = walk(r);
            map.insert(key, walk(r));
        }
        return r.leaveContainer() ? QCborValue(map) : QCborValue(QCborValue::Invalid);
    }
    default: // skipped: the frames never carry these, but a newer peer may
        return r.next() ? QCborValue(QCborValue::Undefined) : QCborValue(QCborValue::Invalid);
    }
}

QByteArray qtWrites(const std::function<void(QCborStreamWriter &)> &write)
{
    QByteArray out;
    QCborStreamWriter w(&out);
    write(w);
    return out;
}

} // namespace

class TestCbor : public QObject
{
    Q_OBJECT

private slots:
    void integersMatchQt_data();
    void integersMatchQt();
    void stringsMatchQt_data();
    void stringsMatchQt();
    void nestedRoundTrip();
    void indefiniteLengths();
    void skipsWhatFramesNeverCarry();
    void everyTruncationFails();
    void malformedHeads_data();
    void malformedHeads();
    void boundsCheckedBeforeAllocating();
    void invalidUtf8Refused();
};

void TestCbor::integersMatchQt_data()
{
    QTest::addColumn<quint64>("value");
    for (quint64 v :
         {0ULL, 1ULL, 23ULL, 24ULL, 255ULL, 256ULL, 65535ULL, 65536ULL, 0xffffffffULL, 0x100000000ULL, ~0ULL})
        QTest::addRow("%llu", static_cast<unsigned long long>(v)) << v;
}

void TestCbor::integersMatchQt()
{
    QFETCH(quint64, value);
    QByteArray ours;
    CborWriter(ours).append(value);
    QCOMPARE(ours, qtWrites([value](QCborStreamWriter &w) { w.append(value); }));
    CborReader r(ours);
    QVERIFY(r.isUnsignedInteger());
    QCOMPARE(r.toUnsignedInteger(), value);
    QVERIFY(r.next());
    QVERIFY(!r.hasNext());
    QCOMPARE(r.currentOffset(), ours.size());
}

void TestCbor::stringsMatchQt_data()
{
    QTest::addColumn<int>("size");
    for (int size : {0, 1, 23, 24, 255, 256, 65535, 65536, 100000})
        QTest::addRow("%d", size) << size;
}

void TestCbor::stringsMatchQt()
{
    QFETCH(int, size);
    QByteArray bytes(size, Qt::Uninitialized);
    for (int i = 0; i < size; ++i)
        bytes[i] = char(i * 7);
    const QByteArray text(size, 'x');

    QByteArray ours;
    CborWriter w(ours);
    w.appendByteString(bytes.constData(), bytes.size());
    w.appendTextString(text.constData(), text.size());
    w.append(QStringView(u"h\u00e9"));
    w.append(true);
    w.append(false);
    QCOMPARE(ours, qtWrites([&](QCborStreamWriter &q) {
                 q.appendByteString(bytes.constData(), bytes.size());
                 q.appendTextString(text.constData(), text.size());
                 q.append(QStringView(u"h\u00e9"));
                 q.append(true);
                 q.append(false);
             }));

    CborReader r(ours);
    QByteArray read;
    QVERIFY(r.isByteArray());
    QCOMPARE(r.readString(&read, size), CborReader::StringStatus::Ok);
    QCOMPARE(read, bytes);
    QVERIFY(r.isString());
    QCOMPARE(r.readString(&read, size), CborReader::StringStatus::Ok);
    QCOMPARE(read, text);
    QCOMPARE(r.readString(&read, 3), CborReader::StringStatus::Ok);
    QCOMPARE(QString::fromUtf8(read), QStringLiteral("h\u00e9"));
    QVERIFY(r.isBool() && r.toBool());
    QVERIFY(r.next());
    QVERIFY(r.isBool() && !r.toBool());
    QVERIFY(r.next());
    QVERIFY(!r.hasNext());
    QVERIFY(!r.failed());
}

void TestCbor::nestedRoundTrip()
{
    // Random maps of arrays of [bytes, bytes] pairs (the shape of headers), written by us, read by Qt.
    QRandomGenerator rng(42);
    for (int round = 0; round < 200; ++round) {
        QCborMap expected;
        QByteArray ours;
        CborWriter w(ours);
        const int entries = int(rng.bounded(6));
        w.startMap(quint64(entries));
        for (int e = 0; e < entries; ++e) {
            const QByteArray key = "k" + QByteArray::number(e);
            w.appendTextString(key.constData(), key.size());
            const int pairs = int(rng.bounded(30));
            w.startArray(quint64(pairs));
            QCborArray array;
            for (int p = 0; p < pairs; ++p) {
                QByteArray a(int(rng.bounded(300)), char('a' + p % 26));
                QByteArray b(int(rng.bounded(70000)), char(rng.bounded(256)));
                w.startArray(2);
                w.appendByteString(a.constData(), a.size());
                w.appendByteString(b.constData(), b.size());
                array.append(QCborArray{a, b});
            }
            expected.insert(QString::fromLatin1(key), array);
        }
        QCborParserError error;
        QCOMPARE(QCborValue::fromCbor(ours, &error), QCborValue(expected));
        QCOMPARE(error.error, QCborError::NoError);
        CborReader r(ours);
        QCOMPARE(walk(r), QCborValue(expected));
        QVERIFY(!r.failed());
        QCOMPARE(r.currentOffset(), ours.size());
    }
}

void TestCbor::indefiniteLengths()
{
    // {_ "a": [_ h'6162', "x"], "b": (_ h'01', h'0203')} with an indefinite map, array and byte string.
    const QByteArray frame = QByteArray::fromHex("bf6161"
                                                 "9f426162"
                                                 "6178ff"
                                                 "6162"
                                                 "5f41014202"
                                                 "03ff"
                                                 "ff");
    CborReader r(frame);
    const QCborValue value = walk(r);
    QVERIFY2(!r.failed(), qPrintable(r.errorString()));
    QCOMPARE(r.currentOffset(), frame.size());
    QCOMPARE(value.toMap().value(QStringLiteral("a")).toArray().at(0).toByteArray(), QByteArray("ab"));
    QCOMPARE(value.toMap().value(QStringLiteral("b")).toByteArray(), QByteArray::fromHex("010203"));
    QCOMPARE(value, QCborValue::fromCbor(frame));
}

void TestCbor::skipsWhatFramesNeverCarry()
{
    const QCborValue odd(
        QCborMap{{QStringLiteral("neg"), -5},
                 {QStringLiteral("float"), 1.5},
                 {QStringLiteral("null"), QCborValue(nullptr)},
                 {QStringLiteral("tagged"), QCborValue(QCborKnownTags::DateTimeString, QStringLiteral("2026"))},
                 {QStringLiteral("deep"), QCborArray{QCborArray{QCborArray{1}}}},
                 {QStringLiteral("after"), 7}});
    const QByteArray frame = odd.toCbor();
    CborReader r(frame);
    QVERIFY(r.next()); // the whole map at once
    QVERIFY2(!r.failed(), qPrintable(r.errorString()));
    QCOMPARE(r.currentOffset(), frame.size());
}

void TestCbor::everyTruncationFails()
{
    const QByteArray frame =
        QCborValue(QCborMap{{QStringLiteral("id"), QByteArray("abc")},
                            {QStringLiteral("h"), QCborArray{QCborArray{QByteArray("n"), QByteArray(300, 'v')}}},
                            {QStringLiteral("n"), 70000}})
            .toCbor();
    for (int cut = 1; cut < frame.size(); ++cut) {
        CborReader r(QByteArrayView(frame.constData(), cut));
        walk(r);
        QVERIFY2(r.failed(),
                 qPrintable(QStringLiteral("cut at %1 of %2 read without error").arg(cut).arg(frame.size())));
        QVERIFY(r.truncated());
    }
}

void TestCbor::malformedHeads_data()
{
    QTest::addColumn<QByteArray>("frame");
    QTest::newRow("reserved info 28") << QByteArray::fromHex("1c");
    QTest::newRow("indefinite integer") << QByteArray::fromHex("1f");
    QTest::newRow("indefinite tag") << QByteArray::fromHex("df");
    QTest::newRow("simple below 32 in two bytes") << QByteArray::fromHex("f810");
    QTest::newRow("text chunk in a byte string") << QByteArray::fromHex("5f6161ff");
    QTest::newRow("nested indefinite chunk") << QByteArray::fromHex("5f5fffff");
    QTest::newRow("stray break") << QByteArray::fromHex("81ff");
    QTest::newRow("tag without an item") << QByteArray::fromHex("9fc1ff");
}

void TestCbor::malformedHeads()
{
    QFETCH(QByteArray, frame);
    CborReader r(frame);
    walk(r);
    QVERIFY(r.failed());
    QVERIFY(!r.truncated());
    QVERIFY(!r.errorString().isEmpty());
}

void TestCbor::boundsCheckedBeforeAllocating()
{
    // A byte string that claims 2^62 bytes, a map that claims 2^40 entries: refused from the head.
    // The reader reads out of the frame, so every frame is kept alive beside its reader.
    const QByteArray hugeFrame = QByteArray::fromHex("5b4000000000000000") + "abc";
    CborReader huge(hugeFrame);
    QByteArray out;
    QCOMPARE(huge.readString(&out, std::numeric_limits<qsizetype>::max()), CborReader::StringStatus::Invalid);
    QVERIFY(huge.truncated());
    const QByteArray boundedFrame = QByteArray::fromHex("45") + "hello";
    CborReader bounded(boundedFrame);
    QCOMPARE(bounded.readString(&out, 4), CborReader::StringStatus::TooLong);
    const QByteArray chunksFrame = QByteArray::fromHex("5f4361626343646566ff");
    CborReader chunks(chunksFrame);
    QCOMPARE(chunks.readString(&out, 5), CborReader::StringStatus::TooLong);
    const QByteArray mapFrame = QByteArray::fromHex("bb0000010000000000") + "ab";
    CborReader map(mapFrame);
    QVERIFY(!map.enterContainer());
    QVERIFY(map.failed());
}

void TestCbor::invalidUtf8Refused()
{
    const QByteArray text = QByteArray::fromHex("62c328");
    CborReader r(text);
    QByteArray out;
    QCOMPARE(r.readString(&out, 10), CborReader::StringStatus::Invalid);
    QVERIFY(r.errorString().contains(QLatin1String("UTF-8")));
    const QByteArray binary = QByteArray::fromHex("42c328"); // the same bytes as a byte string are fine
    CborReader bytes(binary);
    QCOMPARE(bytes.readString(&out, 10), CborReader::StringStatus::Ok);
}

QTEST_GUILESS_MAIN(TestCbor)
#include "TestCbor.moc"
