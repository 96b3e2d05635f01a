// The production setup: keyhole-proxy with a certificate serving https and wss on one port,
// keyhole-cli registering over wss with --ca-file, visitors over https.

#include "TestSupport.h"

#include <QProcess>
#include <QStandardPaths>
#include <QTest>

#include <memory>

using namespace keyhole::testing;

class TestTlsTunnel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testHttpsAndWss()
    {
        const QString openssl = QStandardPaths::findExecutable(QStringLiteral("openssl"));
        if (openssl.isEmpty())
            QSKIP("the openssl command is not installed (it makes the test certificate)");
        TunnelFixture fx;
        const QString cert = fx.tempPath(QStringLiteral("cert.pem"));
        const QString key = fx.tempPath(QStringLiteral("key.pem"));
        QProcess gen;
        gen.start(openssl,
                  {"req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes", "-keyout", key,
                   "-out", cert, "-days", "2", "-subj", "/CN=localhost", "-addext",
                   "subjectAltName=DNS:localhost,DNS:*.localhost"});
        QVERIFY(gen.waitForFinished(30000));
        QCOMPARE(gen.exitCode(), 0);

        QVERIFY2(fx.startService(), qPrintable(fx.errorString()));
        QVERIFY2(fx.startProxy({"--tls-cert", cert, "--tls-key", key}), qPrintable(fx.errorString()));
        const QString proxyUrl = QStringLiteral("https://localhost:%1").arg(fx.proxyPort());
        // Without the CA the client refuses the proxy's certificate...
        auto untrusting = fx.launchClient(QStringLiteral("untrusting"), {"--proxy", proxyUrl},
                                          QStringLiteral("untrusting.json"));
        QVERIFY(!untrusting->waitForLine(QRegularExpression(QStringLiteral("^Tunnel online: ")), 3000).hasMatch());
        untrusting.reset();
        // ...and registers over wss with it.
        QVERIFY2(fx.startClient({"--proxy", proxyUrl, "--ca-file", cert}), qPrintable(fx.errorString()));
        QVERIFY2(fx.publicUrl().startsWith(QStringLiteral("https://")), qPrintable(fx.publicUrl()));

        // The proxy's own host, verified against the test CA.
        const CurlResult health = runCurl(fx.resolveArgs() + QStringList{"--cacert", cert, proxyUrl + "/healthz"});
        QVERIFY2(health.exitCode == 0, qPrintable(health.describe()));
        QCOMPARE(health.status, 200);
        QVERIFY(health.body.contains("\"tunnels\":1"));
        // An answer that closes the connection arrives whole over TLS too (the proxy closes after it).
        const CurlResult closing = runCurl(
            fx.resolveArgs() + QStringList{"--cacert", cert, "-H", "Connection: close", proxyUrl + "/healthz"});
        QVERIFY2(closing.exitCode == 0, qPrintable(closing.describe()));
        QCOMPARE(closing.status, 200);
        QVERIFY(closing.body.contains("\"tunnels\":1"));

        // A visitor through the tunnel over https (-k: curl refuses wildcards directly under "localhost").
        const CurlResult r = runCurl(fx.resolveArgs()
                                     + QStringList{"-k", "--data-binary", "over tls", fx.publicUrl() + "/echo?raw=1"});
        QVERIFY2(r.exitCode == 0, qPrintable(r.describe()));
        QCOMPARE(r.status, 200);
        QCOMPARE(r.body, QByteArray("over tls"));
    }
};

QTEST_GUILESS_MAIN(TestTlsTunnel)
#include "TestTlsTunnel.moc"
