#include "TunnelHostname.h"

#include "crypto/KeyPair.h"
#include "crypto/Label.h"

#include <QTest>

using keyhole::client::TunnelHostname;

// The hostname shown before the proxy confirms one: the key's label (the registration's rule) and the
// proxy's host.
class TestTunnelHostname : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testLabelIsTheRegistrationsLabel()
    {
        const auto key = keyhole::crypto::KeyPair::generate();
        QVERIFY(key);
        QCOMPARE(TunnelHostname::label(*key), keyhole::crypto::labelForKey(*key));
        QCOMPARE(TunnelHostname::label(*key, QStringLiteral("web")),
                 keyhole::crypto::labelForKey(*key, QStringLiteral("web")));
        QVERIFY(TunnelHostname::label(*key) != TunnelHostname::label(*key, QStringLiteral("web")));
    }

    void testPredict_data()
    {
        QTest::addColumn<QString>("proxyUrl");
        QTest::addColumn<QString>("hostname");
        QTest::newRow("host") << "https://tunnel.example.com"
                              << "LABEL.tunnel.example.com";
        QTest::newRow("port and path left out") << "http://localhost:8080/base/"
                                                << "LABEL.localhost";
        QTest::newRow("lowercase") << "https://Tunnel.Example.COM"
                                   << "LABEL.tunnel.example.com";
        QTest::newRow("ws scheme") << "wss://tunnel.example.com"
                                   << "LABEL.tunnel.example.com";
        QTest::newRow("no host yet") << "https://"
                                     << "LABEL";
        QTest::newRow("empty") << ""
                               << "LABEL";
    }

    void testPredict()
    {
        QFETCH(QString, proxyUrl);
        QFETCH(QString, hostname);
        const auto key = keyhole::crypto::KeyPair::generate();
        QVERIFY(key);
        const QString label = TunnelHostname::label(*key, QStringLiteral("blog"));
        hostname.replace(QStringLiteral("LABEL"), label);
        QCOMPARE(TunnelHostname::predict(label, QUrl(proxyUrl)), hostname);
        QCOMPARE(TunnelHostname::predict(*key, QStringLiteral("blog"), QUrl(proxyUrl)), hostname);
    }
};

QTEST_GUILESS_MAIN(TestTunnelHostname)
#include "TestTunnelHostname.moc"
