#include "CryptoTestUtil.h"

#include "crypto/KeyPair.h"
#include "crypto/Label.h"

#include <QJsonObject>
#include <QTest>
#include <QThread>

#include <atomic>
#include <memory>
#include <vector>

#include <openssl/bio.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/pem.h>

using namespace keyhole::crypto;

namespace {

// A key's PKCS#8 PEM, written by OpenSSL directly.
QByteArray pkcs8Pem(EVP_PKEY *key)
{
    BIO *bio = BIO_new(BIO_s_mem());
    PEM_write_bio_PKCS8PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr);
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio, &data);
    QByteArray pem(data, qsizetype(length));
    BIO_free(bio);
    return pem;
}

// A PEM private key of another type or curve, made with OpenSSL directly (KeyPair only makes P-256).
QByteArray foreignKeyPem(const char *type, const char *curve)
{
    EVP_PKEY *key = curve ? EVP_PKEY_Q_keygen(nullptr, nullptr, type, curve)
                          : EVP_PKEY_Q_keygen(nullptr, nullptr, type);
    if (!key)
        return {};
    QByteArray pem = pkcs8Pem(key);
    EVP_PKEY_free(key);
    return pem;
}

} // namespace

class TestKeyPair : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void generateSignVerify()
    {
        auto key = KeyPair::generate();
        QVERIFY(key);
        QVERIFY(key->hasPrivateKey());
        const QByteArray data("hello keyhole");
        const QByteArray signature = key->signEs256(data);
        QCOMPARE(signature.size(), 64);
        QVERIFY(key->verifyEs256(data, signature));
        QVERIFY(!key->verifyEs256(data + "!", signature));

        QByteArray flipped = signature;
        flipped[10] = char(flipped[10] ^ 0x01);
        QVERIFY(!key->verifyEs256(data, flipped));
        QVERIFY(!key->verifyEs256(data, signature.left(63)));
        QVERIFY(!key->verifyEs256(data, signature + '\0'));
        QVERIFY(!key->verifyEs256(data, QByteArray(64, '\0')));
        QVERIFY(!key->verifyEs256(data, QByteArray()));

        auto other = KeyPair::generate();
        QVERIFY(other);
        QVERIFY(!other->verifyEs256(data, signature));
        QVERIFY(key->thumbprint() != other->thumbprint());
    }

    void publicJwkShapeAndThumbprint()
    {
        auto key = KeyPair::generate();
        QVERIFY(key);
        const QJsonObject jwk = key->publicJwk();
        QCOMPARE(jwk.keys(), (QStringList{"crv", "kty", "x", "y"}));
        QCOMPARE(jwk.value("crv").toString(), QStringLiteral("P-256"));
        QCOMPARE(jwk.value("kty").toString(), QStringLiteral("EC"));
        QCOMPARE(jwk.value("x").toString().size(), 43); // 32 bytes, unpadded
        QCOMPARE(jwk.value("y").toString().size(), 43);
        QCOMPARE(key->thumbprint().size(), 32);

        // A public key rebuilt from the JWK is the same key and verifies its signatures.
        auto publicOnly = KeyPair::fromPublicJwk(jwk);
        QVERIFY(publicOnly);
        QVERIFY(!publicOnly->hasPrivateKey());
        QVERIFY(publicOnly->privatePem().isEmpty());
        QVERIFY(publicOnly->signEs256("x").isEmpty());
        QCOMPARE(publicOnly->thumbprint(), key->thumbprint());
        QVERIFY(publicOnly->verifyEs256("x", key->signEs256("x")));
    }

    void vectorJwkThumbprint()
    {
        QString error;
        auto key = KeyPair::fromPublicJwk(testvectors::publicJwk(), &error);
        QVERIFY2(key, qPrintable(error));
        QCOMPARE(key->publicJwk(), testvectors::publicJwk());
        QCOMPARE(testutil::b64(key->thumbprint()), testvectors::kThumbprintB64);
        QCOMPARE(labelForKey(*key), testvectors::kLabel);
        QCOMPARE(labelForKey(*key, QStringLiteral("web")), testvectors::kLabelWeb);
    }

    void pemRoundTrip()
    {
        auto key = KeyPair::generate();
        QVERIFY(key);
        const QByteArray pem = key->privatePem();
        QVERIFY(pem.startsWith("-----BEGIN PRIVATE KEY-----"));
        QString error;
        auto loaded = KeyPair::fromPrivatePem(pem, &error);
        QVERIFY2(loaded, qPrintable(error));
        QVERIFY(loaded->hasPrivateKey());
        QCOMPARE(loaded->thumbprint(), key->thumbprint());
        QVERIFY(key->verifyEs256("data", loaded->signEs256("data")));
    }

    // A PEM written with the public point compressed (as some tools do) gives the same JWK.
    void pemWithCompressedPoint()
    {
        EVP_PKEY *raw = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", "P-256");
        QVERIFY(raw);
        char compressed[] = "compressed";
        QCOMPARE(EVP_PKEY_set_utf8_string_param(raw, OSSL_PKEY_PARAM_EC_POINT_CONVERSION_FORMAT, compressed), 1);
        const QByteArray pem = pkcs8Pem(raw);
        EVP_PKEY_free(raw);

        QString error;
        auto key = KeyPair::fromPrivatePem(pem, &error);
        QVERIFY2(key, qPrintable(error));
        const QJsonObject jwk = key->publicJwk();
        QCOMPARE(jwk.value("x").toString().size(), 43);
        auto publicOnly = KeyPair::fromPublicJwk(jwk, &error);
        QVERIFY2(publicOnly, qPrintable(error));
        QCOMPARE(publicOnly->thumbprint(), key->thumbprint());
        QVERIFY(publicOnly->verifyEs256("data", key->signEs256("data")));
    }

    void vectorPems_data()
    {
        QTest::addColumn<QString>("fileName");
        QTest::addColumn<QByteArray>("pemHeader");
        QTest::newRow("sec1") << "key-p256-sec1.pem" << QByteArray("-----BEGIN EC PRIVATE KEY-----");
        QTest::newRow("pkcs8") << "key-p256-pkcs8.pem" << QByteArray("-----BEGIN PRIVATE KEY-----");
    }

    void vectorPems()
    {
        QFETCH(QString, fileName);
        QFETCH(QByteArray, pemHeader);
        const auto pem = testvectors::readVectorPem(fileName);
        if (!pem)
            QFAIL("key vectors not found in $KEYHOLE_TEST_VECTORS (tests/data/key-vectors)");
        QVERIFY(pem->contains(pemHeader));
        QString error;
        auto key = KeyPair::fromPrivatePem(*pem, &error);
        QVERIFY2(key, qPrintable(error));
        QCOMPARE(key->publicJwk(), testvectors::publicJwk());
        QCOMPARE(testutil::b64(key->thumbprint()), testvectors::kThumbprintB64);
        QCOMPARE(labelForKey(*key), testvectors::kLabel);
        QCOMPARE(labelForKey(*key, QStringLiteral("web")), testvectors::kLabelWeb);

        // Exported as PKCS#8 and read back, it is still the same key.
        auto again = KeyPair::fromPrivatePem(key->privatePem());
        QVERIFY(again);
        QCOMPARE(labelForKey(*again), testvectors::kLabel);
    }

    void rejectsBadPem_data()
    {
        QTest::addColumn<QByteArray>("pem");
        QTest::newRow("empty") << QByteArray();
        QTest::newRow("garbage") << QByteArray("not a key at all");
        QTest::newRow("truncated") << QByteArray("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49AgEGCCqGSM49\n");
        QTest::newRow("P-384") << foreignKeyPem("EC", "secp384r1");
        QTest::newRow("secp256k1") << foreignKeyPem("EC", "secp256k1");
        QTest::newRow("Ed25519") << foreignKeyPem("ED25519", nullptr);
    }

    void rejectsBadPem()
    {
        QFETCH(QByteArray, pem);
        QString error;
        QVERIFY(!KeyPair::fromPrivatePem(pem, &error));
        QVERIFY(!error.isEmpty());
    }

    void rejectsEncryptedPemWithoutPrompting()
    {
        auto key = KeyPair::generate();
        QVERIFY(key);
        // Encrypt the key with OpenSSL so we can check loading fails instead of asking a terminal for a password.
        const QByteArray plain = key->privatePem();
        BIO *in = BIO_new_mem_buf(plain.constData(), int(plain.size()));
        EVP_PKEY *pkey = PEM_read_bio_PrivateKey(in, nullptr, nullptr, nullptr);
        BIO_free(in);
        QVERIFY(pkey);
        BIO *out = BIO_new(BIO_s_mem());
        char password[] = "secret";
        QCOMPARE(PEM_write_bio_PKCS8PrivateKey(out, pkey, EVP_aes_256_cbc(), password, 6, nullptr, nullptr), 1);
        char *data = nullptr;
        const long length = BIO_get_mem_data(out, &data);
        const QByteArray encrypted(data, qsizetype(length));
        BIO_free(out);
        EVP_PKEY_free(pkey);
        QVERIFY(encrypted.contains("ENCRYPTED PRIVATE KEY"));
        QVERIFY(!KeyPair::fromPrivatePem(encrypted));
    }

    void rejectsBadJwk_data()
    {
        QTest::addColumn<QJsonObject>("jwk");
        const QJsonObject good = testvectors::publicJwk();
        auto with = [&good](const QString &member, const QJsonValue &value) {
            QJsonObject copy = good;
            copy.insert(member, value);
            return copy;
        };
        auto without = [&good](const QString &member) {
            QJsonObject copy = good;
            copy.remove(member);
            return copy;
        };
        QString offCurveY = testvectors::kY;
        offCurveY[5] = offCurveY[5] == QLatin1Char('A') ? QLatin1Char('B') : QLatin1Char('A');

        QTest::newRow("empty") << QJsonObject();
        QTest::newRow("kty RSA") << with("kty", "RSA");
        QTest::newRow("kty missing") << without("kty");
        QTest::newRow("crv P-384") << with("crv", "P-384");
        QTest::newRow("crv secp256k1") << with("crv", "secp256k1");
        QTest::newRow("crv missing") << without("crv");
        QTest::newRow("x missing") << without("x");
        QTest::newRow("y missing") << without("y");
        QTest::newRow("x number") << with("x", 5);
        QTest::newRow("x short") << with("x", testvectors::kX.left(42));
        QTest::newRow("x 31 bytes") << with("x", QString::fromLatin1(testutil::b64(QByteArray(31, 'a'))));
        QTest::newRow("x 33 bytes") << with("x", QString::fromLatin1(testutil::b64(QByteArray(33, 'a'))));
        QTest::newRow("x padded") << with("x", testvectors::kX + "=");
        QTest::newRow("x standard base64") << with("x", "CD4AmPHN2AJudtkA3qFSAoPGqCP7iZJumfftVhCjoX+");
        QTest::newRow("x stray low bits") << with("x", "CD4AmPHN2AJudtkA3qFSAoPGqCP7iZJumfftVhCjoXR");
        QTest::newRow("y whitespace") << with("y", " " + testvectors::kY);
        QTest::newRow("y off curve") << with("y", offCurveY);
        const QString allOnes = QString::fromLatin1(testutil::b64(QByteArray(32, char(0xff))));
        QTest::newRow("x beyond the field") << with("x", allOnes);
        QJsonObject origin = good;
        origin.insert("x", QString::fromLatin1(testutil::b64(QByteArray(32, '\0'))));
        origin.insert("y", origin.value("x"));
        QTest::newRow("x and y zero") << origin;
        QTest::newRow("has d") << with("d", QString::fromLatin1(testutil::b64(QByteArray(32, 'd'))));
    }

    void rejectsBadJwk()
    {
        QFETCH(QJsonObject, jwk);
        QString error;
        QVERIFY(!KeyPair::fromPublicJwk(jwk, &error));
        QVERIFY(!error.isEmpty());
    }

    // Public keys are copies of one shared parameter set, made on the verifier's worker threads at
    // once; a worker frees its OpenSSL state after each job and must work the same the next time.
    void publicKeysFromSeveralThreadsAtOnce()
    {
        constexpr int kThreads = 4;
        constexpr int kKeysPerThread = 50;
        std::atomic<int> right{0};
        std::vector<std::unique_ptr<QThread>> threads;
        for (int t = 0; t < kThreads; ++t) {
            threads.emplace_back(QThread::create([&right] {
                for (int i = 0; i < kKeysPerThread; ++i) {
                    const auto key = KeyPair::fromPublicJwk(testvectors::publicJwk());
                    if (key && testutil::b64(key->thumbprint()) == testvectors::kThumbprintB64
                        && key->publicJwk() == testvectors::publicJwk())
                        ++right;
                    if (i % 10 == 0)
                        KeyPair::releaseThreadState();
                }
            }));
            threads.back()->start();
        }
        for (const auto &thread : threads)
            QVERIFY(thread->wait(30000));
        QCOMPARE(right.load(), kThreads * kKeysPerThread);
    }

    void movedFromKeyIsEmpty()
    {
        auto key = KeyPair::generate();
        QVERIFY(key);
        KeyPair moved = std::move(*key);
        QVERIFY(moved.hasPrivateKey());
        QCOMPARE(moved.signEs256("x").size(), 64);
        // The moved-from object is empty but still safe to call.
        QVERIFY(!key->hasPrivateKey());
        QVERIFY(key->signEs256("x").isEmpty());
        QVERIFY(!key->verifyEs256("x", moved.signEs256("x")));
        QVERIFY(key->publicJwk().isEmpty());
        QVERIFY(key->thumbprint().isEmpty());
        QVERIFY(key->privatePem().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestKeyPair)
#include "TestKeyPair.moc"
