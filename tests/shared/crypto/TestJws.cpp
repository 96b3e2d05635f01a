#include "CryptoTestUtil.h"

#include "crypto/Jws.h"
#include "crypto/KeyPair.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QTest>

using namespace keyhole::crypto;
using namespace keyhole::crypto::testutil;

Q_DECLARE_METATYPE(keyhole::crypto::Jws::Failure)

class TestJws : public QObject
{
    Q_OBJECT

private:
    std::optional<KeyPair> m_key;
    std::optional<KeyPair> m_otherKey;
    const QJsonObject m_payload{{"aud", "https://proxy.example"}, {"iat", 1700000000}, {"jti", "abcdefgh"}};

private Q_SLOTS:
    void initTestCase()
    {
        m_key = KeyPair::generate();
        m_otherKey = KeyPair::generate();
        QVERIFY(m_key && m_otherKey);
    }

    void signAndVerify()
    {
        const QByteArray token = Jws::sign(*m_key, m_payload);
        QCOMPARE(token.count('.'), 2);
        QString error;
        Jws::Failure failure = Jws::Failure::Malformed;
        const auto verified = Jws::verify(token, &error, &failure);
        QVERIFY2(verified, qPrintable(error));
        QCOMPARE(failure, Jws::Failure::None);
        QCOMPARE(verified->payload, m_payload);
        QCOMPARE(verified->thumbprint, m_key->thumbprint());

        // The two-argument form agrees.
        QVERIFY(Jws::verify(token));
    }

    void headerContents()
    {
        const QByteArray token = Jws::sign(*m_key, m_payload);
        const QByteArray headerJson = QByteArray::fromBase64(token.split('.').at(0), QByteArray::Base64UrlEncoding);
        const QJsonObject header = QJsonDocument::fromJson(headerJson).object();
        QCOMPARE(header.value("alg").toString(), QStringLiteral("ES256"));
        QCOMPARE(header.value("typ").toString(), QStringLiteral("keyhole-registration+jwt"));
        QCOMPARE(header.value("jwk").toObject(), m_key->publicJwk());
        QVERIFY(!header.value("jwk").toObject().contains("d"));
        QVERIFY(!token.contains('='));
    }

    void signWithoutPrivateKeyFails()
    {
        auto publicOnly = KeyPair::fromPublicJwk(m_key->publicJwk());
        QVERIFY(publicOnly);
        QVERIFY(Jws::sign(*publicOnly, m_payload).isEmpty());
    }

    void tampering_data()
    {
        QTest::addColumn<int>("part");
        QTest::addColumn<Jws::Failure>("expected");
        QTest::newRow("header") << 0 << Jws::Failure::BadSignature;
        QTest::newRow("payload") << 1 << Jws::Failure::BadSignature;
        QTest::newRow("signature") << 2 << Jws::Failure::BadSignature;
    }

    void tampering()
    {
        QFETCH(int, part);
        QFETCH(Jws::Failure, expected);
        const QByteArray token = Jws::sign(*m_key, m_payload);
        QList<QByteArray> parts = token.split('.');
        QByteArray decoded = QByteArray::fromBase64(parts[part], QByteArray::Base64UrlEncoding);
        if (part == 0) {
            // Still a valid header, just not the signed one.
            QJsonObject header = QJsonDocument::fromJson(decoded).object();
            header.insert("kid", "x");
            decoded = json(header);
        } else if (part == 1) {
            QJsonObject payload = QJsonDocument::fromJson(decoded).object();
            payload.insert("aud", "https://evil.example");
            decoded = json(payload);
        } else {
            decoded[40] = char(decoded[40] ^ 0x80);
        }
        parts[part] = b64(decoded);
        QString error;
        Jws::Failure failure = Jws::Failure::None;
        QVERIFY(!Jws::verify(parts.join('.'), &error, &failure));
        QCOMPARE(failure, expected);
        QVERIFY(!error.isEmpty());
    }

    void signedByAnotherKey()
    {
        // The header names key A but key B made the signature.
        const QByteArray token = craft(*m_otherKey, json(es256Header(*m_key)), json(m_payload));
        Jws::Failure failure = Jws::Failure::None;
        QVERIFY(!Jws::verify(token, nullptr, &failure));
        QCOMPARE(failure, Jws::Failure::BadSignature);
    }

    void malformed_data()
    {
        QTest::addColumn<QByteArray>("token");
        const KeyPair &key = *m_key;
        const QByteArray payload = json(m_payload);
        const QJsonObject header = es256Header(key);
        auto headerWith = [&header](const QString &member, const QJsonValue &value) {
            QJsonObject copy = header;
            copy.insert(member, value);
            return json(copy);
        };
        auto headerWithout = [&header](const QString &member) {
            QJsonObject copy = header;
            copy.remove(member);
            return json(copy);
        };
        const QByteArray good = Jws::sign(key, m_payload);
        const QList<QByteArray> goodParts = good.split('.');

        QTest::newRow("empty") << QByteArray();
        QTest::newRow("one part") << goodParts[0];
        QTest::newRow("two parts") << goodParts[0] + '.' + goodParts[1];
        QTest::newRow("four parts") << good + ".AAAA";
        QTest::newRow("trailing dot") << good + '.';
        QTest::newRow("oversize") << craft(key, json(header),
                                           json(QJsonObject{{"pad", QString(Jws::kMaxTokenBytes, 'a')}}));

        QTest::newRow("alg none") << b64(headerWith("alg", "none")) + '.' + b64(payload) + '.';
        QTest::newRow("alg none signed") << craft(key, headerWith("alg", "none"), payload);
        QTest::newRow("alg HS256") << craft(key, headerWith("alg", "HS256"), payload);
        QTest::newRow("alg RS256") << craft(key, headerWith("alg", "RS256"), payload);
        QTest::newRow("alg lowercase") << craft(key, headerWith("alg", "es256"), payload);
        QTest::newRow("alg ES384") << craft(key, headerWith("alg", "ES384"), payload);
        QTest::newRow("alg missing") << craft(key, headerWithout("alg"), payload);
        QTest::newRow("alg array") << craft(key, headerWith("alg", QJsonArray{"ES256"}), payload);
        QTest::newRow("typ wrong") << craft(key, headerWith("typ", "JWT"), payload);
        QTest::newRow("crit") << craft(key, headerWith("crit", QJsonArray{"exp"}), payload);

        QTest::newRow("jwk missing") << craft(key, headerWithout("jwk"), payload);
        QTest::newRow("jwk string") << craft(key, headerWith("jwk", "key"), payload);
        QJsonObject jwkWithD = key.publicJwk();
        jwkWithD.insert("d", QString::fromLatin1(b64(QByteArray(32, 'd'))));
        QTest::newRow("jwk with d") << craft(key, headerWith("jwk", jwkWithD), payload);
        QJsonObject jwkP384 = key.publicJwk();
        jwkP384.insert("crv", "P-384");
        QTest::newRow("jwk wrong curve") << craft(key, headerWith("jwk", jwkP384), payload);
        QJsonObject jwkRsa = key.publicJwk();
        jwkRsa.insert("kty", "RSA");
        QTest::newRow("jwk wrong kty") << craft(key, headerWith("jwk", jwkRsa), payload);
        QJsonObject jwkOffCurve = key.publicJwk();
        jwkOffCurve.insert("y", jwkOffCurve.value("x"));
        QTest::newRow("jwk off curve") << craft(key, headerWith("jwk", jwkOffCurve), payload);

        QTest::newRow("header not json") << craft(key, "{not json", payload);
        QTest::newRow("header array") << craft(key, "[]", payload);
        QTest::newRow("header trailing garbage") << craft(key, json(header) + "x", payload);
        QTest::newRow("payload array") << craft(key, json(header), "[1,2]");
        QTest::newRow("payload not json") << craft(key, json(header), "hello");
        QTest::newRow("payload empty") << craft(key, json(header), "");

        QTest::newRow("header padded") << goodParts[0] + "==." + goodParts[1] + '.' + goodParts[2];
        QByteArray plusSlash = goodParts[2];
        plusSlash[0] = '+';
        QTest::newRow("signature with +") << goodParts[0] + '.' + goodParts[1] + '.' + plusSlash;
        QTest::newRow("payload with space") << goodParts[0] + '.' + goodParts[1] + " ." + goodParts[2];
        QTest::newRow("signature padded") << good + "==";
        QTest::newRow("signature 63 bytes") << goodParts[0] + '.' + goodParts[1] + '.'
                + b64(QByteArray::fromBase64(goodParts[2], QByteArray::Base64UrlEncoding).left(63));
        QTest::newRow("signature empty") << goodParts[0] + '.' + goodParts[1] + '.';
        QTest::newRow("signature DER") << goodParts[0] + '.' + goodParts[1] + '.' + b64(QByteArray(70, '\x30'));
    }

    void malformed()
    {
        QFETCH(QByteArray, token);
        QString error;
        Jws::Failure failure = Jws::Failure::None;
        QVERIFY(!Jws::verify(token, &error, &failure));
        QCOMPARE(failure, Jws::Failure::Malformed);
        QVERIFY(!error.isEmpty());
    }

    void craftedGoodTokenIsAccepted()
    {
        // The helper used above makes valid tokens when nothing is wrong, so each refusal is for its reason.
        QVERIFY(Jws::verify(craft(*m_key, json(es256Header(*m_key)), json(m_payload))));
        QJsonObject noTyp = es256Header(*m_key);
        noTyp.remove("typ");
        QVERIFY(Jws::verify(craft(*m_key, json(noTyp), json(m_payload))));
    }

    void sizeBoundary()
    {
        // The largest token within kMaxTokenBytes is accepted, the next larger one refused.
        const QByteArray header = json(es256Header(*m_key));
        QByteArray fits;
        QByteArray tooBig;
        for (int padding = 5500; tooBig.isEmpty(); ++padding) {
            const QByteArray token = craft(*m_key, header, json(QJsonObject{{"p", QString(padding, 'a')}}));
            (token.size() <= Jws::kMaxTokenBytes ? fits : tooBig) = token;
        }
        QVERIFY(fits.size() >= Jws::kMaxTokenBytes - 2); // unpadded base64 grows by 1 or 2 characters a step
        QString error;
        QVERIFY2(Jws::verify(fits, &error), qPrintable(error));
        QVERIFY(!Jws::verify(tooBig));
    }
};

QTEST_GUILESS_MAIN(TestJws)
#include "TestJws.moc"
