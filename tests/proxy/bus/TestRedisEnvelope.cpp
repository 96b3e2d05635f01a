#include "bus/redis/RedisEnvelope.h"

#include <QRandomGenerator>
#include <QTest>

using namespace keyhole::proxy;

class TestRedisEnvelope : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testRoundTrip_data()
    {
        QTest::addColumn<int>("kind");
        QTest::addColumn<quint64>("epoch");
        QTest::addColumn<QByteArray>("payload");
        QByteArray binary(70000, '\0');
        for (qsizetype i = 0; i < binary.size(); ++i)
            binary[i] = char(i * 31 + 7);
        QTest::newRow("to tunnel, binary") << 1 << quint64(1) << binary;
        QTest::newRow("to visitor, empty") << 2 << quint64(1795676974452) << QByteArray();
        QTest::newRow("max epoch") << 3 << ~quint64(0) << QByteArray("x");
    }

    void testRoundTrip()
    {
        QFETCH(int, kind);
        QFETCH(quint64, epoch);
        QFETCH(QByteArray, payload);
        RedisEnvelope envelope;
        envelope.kind = RedisEnvelope::Kind(kind);
        envelope.epoch = epoch;
        envelope.source = "instance_1";
        envelope.key = "abc-12";
        envelope.payload = payload;
        const QByteArray frame = envelope.encode();
        // The layout of docs/PROTOCOL.md, built here byte by byte: magic "KH", version 1, kind, u64be epoch,
        // u8 source length, source, u16be key length, key, payload.
        QByteArray expected("KH\x01", 3);
        expected.append(char(kind));
        for (int shift = 56; shift >= 0; shift -= 8)
            expected.append(char((epoch >> shift) & 0xff));
        expected.append(char(10)).append("instance_1");
        expected.append(char(0)).append(char(6)).append("abc-12");
        expected.append(payload);
        QCOMPARE(frame.toHex(), expected.toHex());
        // What the routing script builds in Redis (head .. owner's epoch .. tail) is the same frame.
        QByteArray epochBytes = expected.mid(4, 8);
        QCOMPARE(RedisEnvelope::head(envelope.kind) + epochBytes + envelope.tail(), expected);
        QString error;
        const auto decoded = RedisEnvelope::decode(frame, 1 << 20, &error);
        QVERIFY2(decoded, qPrintable(error));
        QCOMPARE(int(decoded->kind), kind);
        QCOMPARE(decoded->epoch, epoch);
        QCOMPARE(decoded->source, QByteArray("instance_1"));
        QCOMPARE(decoded->key, QByteArray("abc-12"));
        QCOMPARE(decoded->payload, payload);
    }

    void testEveryTruncationRefusedOrShorter()
    {
        RedisEnvelope envelope;
        envelope.source = "a";
        envelope.key = "label";
        envelope.payload = "payload";
        const QByteArray frame = envelope.encode();
        const qsizetype headerEnd = frame.size() - envelope.payload.size();
        for (qsizetype n = 0; n < headerEnd; ++n) {
            QString error;
            QVERIFY2(!RedisEnvelope::decode(frame.left(n), 1 << 20, &error), qPrintable(QString::number(n)));
        }
    }

    void testRefused_data()
    {
        QTest::addColumn<QByteArray>("frame");
        QTest::addColumn<QString>("mentions");
        RedisEnvelope ok;
        ok.source = "a";
        ok.key = "k";
        const QByteArray good = ok.encode();
        QByteArray badMagic = good;
        badMagic[0] = 'X';
        QByteArray badVersion = good;
        badVersion[2] = 2;
        QByteArray badKind = good;
        badKind[3] = 9;
        QByteArray noSource = good;
        noSource[12] = 0;
        QByteArray longKey = good;
        longKey[14] = char(0xff);
        QTest::newRow("magic") << badMagic << "not an envelope";
        QTest::newRow("version") << badVersion << "version";
        QTest::newRow("kind") << badKind << "kind";
        QTest::newRow("empty source") << noSource << "source";
        QTest::newRow("key past the end") << longKey << "key";
        QTest::newRow("oversize") << QByteArray(2000, 'K') << "limit";
    }

    void testRefused()
    {
        QFETCH(QByteArray, frame);
        QFETCH(QString, mentions);
        QString error;
        QVERIFY(!RedisEnvelope::decode(frame, 1000, &error));
        QVERIFY2(error.contains(mentions), qPrintable(error));
    }

    // Random and mutated frames: each is refused with a reason, or decodes to an envelope that encodes
    // back to exactly the same bytes (nothing read past the end, nothing silently dropped).
    void testRandomBytesRefusedOrExact()
    {
        RedisEnvelope valid;
        valid.kind = RedisEnvelope::Kind(1);
        valid.source = "instance_1";
        valid.key = "abc-12";
        valid.payload = "payload bytes";
        const QByteArray good = valid.encode();
        QRandomGenerator rng(42);
        int accepted = 0;
        int refused = 0;
        for (int i = 0; i < 20000; ++i) {
            QByteArray frame;
            if (i % 2) {
                frame = good;
                frame[int(rng.bounded(int(good.size())))] = char(rng.bounded(256));
            } else {
                frame.resize(int(rng.bounded(64)));
                for (auto &c : frame)
                    c = char(rng.bounded(256));
            }
            QString error;
            const auto decoded = RedisEnvelope::decode(frame, 1 << 20, &error);
            if (decoded) {
                ++accepted;
                QCOMPARE(decoded->encode(), frame);
            } else {
                ++refused;
                QVERIFY2(!error.isEmpty(), frame.toHex().constData());
            }
        }
        QVERIFY(accepted > 0);
        QVERIFY(refused > 0);
    }

    void testFailurePayload()
    {
        const QByteArray payload = RedisEnvelope::encodeFailure(503, 5, QStringLiteral("überlastet"));
        int status = 0;
        int retryAfter = 0;
        QString reason;
        QVERIFY(RedisEnvelope::decodeFailure(payload, &status, &retryAfter, &reason));
        QCOMPARE(status, 503);
        QCOMPARE(retryAfter, 5);
        QCOMPARE(reason, QStringLiteral("überlastet"));
        QVERIFY(!RedisEnvelope::decodeFailure(QByteArray("\x00\x01", 2), &status, &retryAfter, &reason));
        QVERIFY(!RedisEnvelope::decodeFailure(RedisEnvelope::encodeFailure(42, 0, {}), &status, &retryAfter, &reason));
    }
};

QTEST_GUILESS_MAIN(TestRedisEnvelope)
#include "TestRedisEnvelope.moc"
