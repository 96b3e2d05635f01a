#include "ClientSettings.h"

#include <QTest>

using keyhole::client::ClientSettings;

class TestClientSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void validate_data();
    void validate();
    void subscribeUrl_data();
    void subscribeUrl();
    void audience_data();
    void audience();
    void targetAuthority();
};

namespace {

ClientSettings valid()
{
    ClientSettings settings;
    settings.proxyUrl = QUrl(QStringLiteral("https://tunnel.example.com"));
    settings.target = QUrl(QStringLiteral("http://127.0.0.1:3000"));
    settings.keyPath = QStringLiteral("/tmp/key.pem");
    return settings;
}

} // namespace

void TestClientSettings::validate_data()
{
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("value");
    QTest::addColumn<QString>("errorContains"); // empty: valid

    QTest::newRow("valid") << ""
                           << ""
                           << "";
    QTest::newRow("ws proxy accepted") << "proxy"
                                       << "ws://localhost:8080"
                                       << "";
    QTest::newRow("ftp proxy") << "proxy"
                               << "ftp://example.com"
                               << "proxy URL";
    QTest::newRow("proxy without host") << "proxy"
                                        << "http://"
                                        << "proxy URL";
    QTest::newRow("proxy with query") << "proxy"
                                      << "http://example.com/?a=b"
                                      << "query";
    QTest::newRow("no target") << "target"
                               << ""
                               << "--port or --target";
    QTest::newRow("target ftp") << "target"
                                << "ftp://127.0.0.1:21"
                                << "target";
    QTest::newRow("target with path") << "target"
                                      << "http://127.0.0.1:3000/app"
                                      << "path";
    QTest::newRow("https target") << "target"
                                  << "https://localhost:8443"
                                  << "";
    QTest::newRow("good name") << "name"
                               << "blog-2"
                               << "";
    QTest::newRow("bad name") << "name"
                              << "-Blog"
                              << "tunnel name";
    QTest::newRow("missing ca") << "ca"
                                << "/nonexistent/ca.pem"
                                << "CA file";
    QTest::newRow("host rewrite") << "host"
                                  << "rewrite"
                                  << "";
    QTest::newRow("host literal") << "host"
                                  << "app.test"
                                  << "";
    QTest::newRow("host injection") << "host"
                                    << "a\r\nX-Evil: 1"
                                    << "Host header";
    QTest::newRow("no key") << "key"
                            << ""
                            << "key";
}

void TestClientSettings::validate()
{
    QFETCH(QString, field);
    QFETCH(QString, value);
    QFETCH(QString, errorContains);
    ClientSettings settings = valid();
    if (field == QLatin1String("proxy"))
        settings.proxyUrl = QUrl(value);
    else if (field == QLatin1String("target"))
        settings.target = QUrl(value);
    else if (field == QLatin1String("name"))
        settings.name = value;
    else if (field == QLatin1String("ca"))
        settings.caFile = value;
    else if (field == QLatin1String("host"))
        settings.hostHeader = value;
    else if (field == QLatin1String("key"))
        settings.keyPath = value;
    const QString error = settings.validate();
    if (errorContains.isEmpty())
        QVERIFY2(error.isEmpty(), qPrintable(error));
    else
        QVERIFY2(error.contains(errorContains), qPrintable(error));
}

void TestClientSettings::subscribeUrl_data()
{
    QTest::addColumn<QString>("proxy");
    QTest::addColumn<QString>("expected");
    QTest::newRow("http") << "http://localhost:8080"
                          << "ws://localhost:8080/proxy/subscribe";
    QTest::newRow("https") << "https://tunnel.example.com/"
                           << "wss://tunnel.example.com/proxy/subscribe";
    QTest::newRow("prefix") << "https://example.com/keyhole/"
                            << "wss://example.com/keyhole/proxy/subscribe";
    QTest::newRow("wss given") << "wss://example.com"
                               << "wss://example.com/proxy/subscribe";
}

void TestClientSettings::subscribeUrl()
{
    QFETCH(QString, proxy);
    QFETCH(QString, expected);
    ClientSettings settings = valid();
    settings.proxyUrl = QUrl(proxy);
    QCOMPARE(settings.subscribeUrl().toString(), expected);
}

void TestClientSettings::audience_data()
{
    QTest::addColumn<QString>("proxy");
    QTest::addColumn<QString>("expected");
    QTest::newRow("plain") << "http://localhost:8080"
                           << "http://localhost:8080";
    QTest::newRow("case and slash") << "HTTPS://Tunnel.Example.COM/"
                                    << "https://tunnel.example.com";
    QTest::newRow("default https port") << "https://example.com:443"
                                        << "https://example.com";
    QTest::newRow("default http port") << "http://example.com:80/"
                                       << "http://example.com";
    QTest::newRow("non-default port") << "https://example.com:8443"
                                      << "https://example.com:8443";
    QTest::newRow("ws maps to http") << "ws://example.com:8080"
                                     << "http://example.com:8080";
    QTest::newRow("ipv6") << "http://[::1]:8080"
                          << "http://[::1]:8080";
}

void TestClientSettings::audience()
{
    QFETCH(QString, proxy);
    QFETCH(QString, expected);
    QCOMPARE(ClientSettings::normalizeAudience(QUrl(proxy)), expected);
}

void TestClientSettings::targetAuthority()
{
    ClientSettings settings = valid();
    QCOMPARE(settings.targetAuthority(), QStringLiteral("127.0.0.1:3000"));
    settings.target = QUrl(QStringLiteral("https://localhost"));
    QCOMPARE(settings.targetAuthority(), QStringLiteral("localhost:443"));
}

QTEST_GUILESS_MAIN(TestClientSettings)
#include "TestClientSettings.moc"
