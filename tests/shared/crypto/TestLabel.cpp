#include "CryptoTestUtil.h"
#include "crypto/KeyPair.h"
#include "crypto/Label.h"

#include <QCryptographicHash>
#include <QTest>

using namespace keyhole::crypto;

namespace {
const QByteArray kThumbprintB64 = QByteArrayLiteral("x0ADszBpfG8DLP1K9FL1JDaQIVryuM3cEcroqqWMotc");
const QString kLabel = QStringLiteral("y5aahmzqnf6g6azm7vfpiuxveq3jaik26k4m3xarzlukvjmmullq");
const QString kLabelWeb = QStringLiteral("cqdalhglfhy4fl7g3f2uny4hvhbqmwwq5tlrjk3kdvnoqe72qj4a");

QByteArray vectorThumbprint()
{
    return QByteArray::fromBase64(kThumbprintB64, QByteArray::Base64UrlEncoding);
}
} // namespace

class TestLabel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void base32_data()
    {
        QTest::addColumn<QByteArray>("raw");
        QTest::addColumn<QString>("expected");
        // RFC 4648 section 10, lowercased and without padding.
        QTest::newRow("empty") << QByteArray() << "";
        QTest::newRow("f") << QByteArray("f") << "my";
        QTest::newRow("fo") << QByteArray("fo") << "mzxq";
        QTest::newRow("foo") << QByteArray("foo") << "mzxw6";
        QTest::newRow("foob") << QByteArray("foob") << "mzxw6yq";
        QTest::newRow("fooba") << QByteArray("fooba") << "mzxw6ytb";
        QTest::newRow("foobar") << QByteArray("foobar") << "mzxw6ytboi";
        QTest::newRow("all ones") << QByteArray(5, char(0xff)) << "77777777";
        QTest::newRow("zeros") << QByteArray(5, '\0') << "aaaaaaaa";
    }

    void base32()
    {
        QFETCH(QByteArray, raw);
        QFETCH(QString, expected);
        QCOMPARE(base32Lower(raw), expected);
    }

    void vectorLabels_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("expected");
        QTest::newRow("no name") << QString() << kLabel;
        QTest::newRow("web") << "web" << kLabelWeb;
    }

    void vectorLabels()
    {
        QFETCH(QString, name);
        QFETCH(QString, expected);
        const QString label = labelForThumbprint(vectorThumbprint(), name);
        QCOMPARE(label, expected);
        QVERIFY(isValidLabel(label));
    }

    void namedLabelsDiffer()
    {
        const QByteArray thumbprint = vectorThumbprint();
        QVERIFY(labelForThumbprint(thumbprint, "api") != labelForThumbprint(thumbprint, "web"));
        QVERIFY(labelForThumbprint(thumbprint, "api") != labelForThumbprint(thumbprint));
    }

    void wrongThumbprintSize()
    {
        QVERIFY(labelForThumbprint(QByteArray(31, 'a')).isEmpty());
        QVERIFY(labelForThumbprint(QByteArray(33, 'a')).isEmpty());
        QVERIFY(labelForThumbprint(QByteArray()).isEmpty());
    }

    // labelForKey against the key vector's known labels, not against labelForThumbprint (which it calls).
    void labelForVectorKey_data()
    {
        QTest::addColumn<QString>("file");
        QTest::newRow("sec1") << "key-p256-sec1.pem";
        QTest::newRow("pkcs8") << "key-p256-pkcs8.pem";
    }

    void labelForVectorKey()
    {
        QFETCH(QString, file);
        const auto pem = testvectors::readVectorPem(file);
        QVERIFY2(pem, "key vectors not found in $KEYHOLE_TEST_VECTORS (tests/data/key-vectors)");
        QString error;
        const auto key = KeyPair::fromPrivatePem(*pem, &error);
        QVERIFY2(key, qPrintable(error));
        QCOMPARE(labelForKey(*key), kLabel);
        QCOMPARE(labelForKey(*key, "web"), kLabelWeb);
        QVERIFY(isValidLabel(labelForKey(*key)));
    }

    // A generated key: the named label is base32(SHA-256(plain label + name)), computed here independently.
    void labelForGeneratedKey()
    {
        auto key = KeyPair::generate();
        QVERIFY(key);
        const QString plain = labelForKey(*key);
        QVERIFY(isValidLabel(plain));
        const QByteArray digest = QCryptographicHash::hash(plain.toUtf8() + "web", QCryptographicHash::Sha256);
        QCOMPARE(labelForKey(*key, "web"), base32Lower(digest));
        QVERIFY(labelForKey(*key, "web") != plain);
    }

    void validLabel_data()
    {
        QTest::addColumn<QString>("label");
        QTest::addColumn<bool>("valid");
        QTest::newRow("vector") << kLabel << true;
        QTest::newRow("named vector") << kLabelWeb << true;
        QTest::newRow("all a") << QString(52, 'a') << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("51 chars") << kLabel.left(51) << false;
        QTest::newRow("53 chars") << kLabel + "a" << false;
        QTest::newRow("uppercase") << kLabel.toUpper() << false;
        QTest::newRow("digit 1") << QString(51, 'a') + "1" << false;
        QTest::newRow("digit 8") << QString(51, 'a') + "8" << false;
        QTest::newRow("dash") << QString(51, 'a') + "-" << false;
        QTest::newRow("dot") << QString(51, 'a') + "." << false;
        QTest::newRow("non-ascii") << QString(51, 'a') + QChar(0xe9) << false;
    }

    void validLabel()
    {
        QFETCH(QString, label);
        QFETCH(bool, valid);
        QCOMPARE(isValidLabel(label), valid);
    }

    void validTunnelName_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<bool>("valid");
        QTest::newRow("web") << "web" << true;
        QTest::newRow("one char") << "a" << true;
        QTest::newRow("digits") << "123" << true;
        QTest::newRow("inner dash") << "my-app-2" << true;
        QTest::newRow("63 chars") << QString(63, 'a') << true;
        QTest::newRow("empty") << QString() << false;
        QTest::newRow("64 chars") << QString(64, 'a') << false;
        QTest::newRow("leading dash") << "-web" << false;
        QTest::newRow("trailing dash") << "web-" << false;
        QTest::newRow("only dash") << "-" << false;
        QTest::newRow("uppercase") << "Web" << false;
        QTest::newRow("dot") << "a.b" << false;
        QTest::newRow("underscore") << "a_b" << false;
        QTest::newRow("space") << "a b" << false;
        QTest::newRow("slash") << "a/b" << false;
        QTest::newRow("non-ascii") << QString("caf") + QChar(0xe9) << false;
    }

    void validTunnelName()
    {
        QFETCH(QString, name);
        QFETCH(bool, valid);
        QCOMPARE(isValidTunnelName(name), valid);
    }
};

QTEST_GUILESS_MAIN(TestLabel)
#include "TestLabel.moc"
