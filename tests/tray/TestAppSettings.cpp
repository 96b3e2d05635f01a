#include "AppSettings.h"

#include <QSettings>
#include <QTemporaryDir>
#include <QTest>

using keyhole::tray::AppSettings;

class TestAppSettings : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void defaultsAreUsable()
    {
        const AppSettings settings;
        QCOMPARE(settings.validate(), QString());
        QCOMPARE(settings.targetUrl(), QUrl(QStringLiteral("http://127.0.0.1:3000")));
        QVERIFY(settings.startTunnelOnLaunch);
        QVERIFY(!settings.startAtLogin);
        QVERIFY(!settings.firstRunDone);
    }

    void validate_data()
    {
        QTest::addColumn<QString>("proxy");
        QTest::addColumn<QString>("scheme");
        QTest::addColumn<QString>("host");
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("caFile");
        QTest::addColumn<QString>("problem"); // a word the message must contain; empty = valid

        const QString p = QStringLiteral("https://tunnel.example.com");
        const QString h = QStringLiteral("127.0.0.1");
        QTest::newRow("valid") << p << "http" << h << 3000 << ""
                               << ""
                               << "";
        QTest::newRow("valid https target with name") << p << "https"
                                                      << "localhost" << 8443 << "blog"
                                                      << ""
                                                      << "";
        QTest::newRow("ws proxy") << "ws://localhost:8080"
                                  << "http" << h << 1 << ""
                                  << ""
                                  << "";
        QTest::newRow("empty proxy") << ""
                                     << "http" << h << 3000 << ""
                                     << ""
                                     << "proxy";
        QTest::newRow("ftp proxy") << "ftp://example.com"
                                   << "http" << h << 3000 << ""
                                   << ""
                                   << "proxy";
        QTest::newRow("proxy without host") << "https://"
                                            << "http" << h << 3000 << ""
                                            << ""
                                            << "proxy";
        QTest::newRow("proxy with query") << "https://example.com/?a=b"
                                          << "http" << h << 3000 << ""
                                          << ""
                                          << "query";
        QTest::newRow("bad scheme") << p << "gopher" << h << 3000 << ""
                                    << ""
                                    << "http or https";
        QTest::newRow("empty host") << p << "http"
                                    << "  " << 3000 << ""
                                    << ""
                                    << "host";
        QTest::newRow("port 0") << p << "http" << h << 0 << ""
                                << ""
                                << "port";
        QTest::newRow("port too big") << p << "http" << h << 65536 << ""
                                      << ""
                                      << "port";
        QTest::newRow("bad name") << p << "http" << h << 3000 << "Not Valid"
                                  << ""
                                  << "name";
        QTest::newRow("name trailing dash") << p << "http" << h << 3000 << "blog-"
                                            << ""
                                            << "name";
        QTest::newRow("missing CA file") << p << "http" << h << 3000 << ""
                                         << "/nonexistent/ca.pem"
                                         << "CA file";
    }

    void validate()
    {
        QFETCH(QString, proxy);
        QFETCH(QString, scheme);
        QFETCH(QString, host);
        QFETCH(int, port);
        QFETCH(QString, name);
        QFETCH(QString, caFile);
        QFETCH(QString, problem);

        AppSettings settings;
        settings.proxyUrl = QUrl(proxy, QUrl::StrictMode);
        settings.targetScheme = scheme;
        settings.targetHost = host;
        settings.targetPort = port;
        settings.name = name;
        settings.caFile = caFile;
        const QString message = settings.validate();
        if (problem.isEmpty()) {
            QCOMPARE(message, QString());
        } else {
            QVERIFY2(message.contains(problem, Qt::CaseInsensitive), qPrintable(message));
            QVERIFY2(message.at(0).isUpper(), qPrintable(message)); // a sentence for a dialog
        }
    }

    void saveAndLoadRoundTrip()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString file = dir.filePath(QStringLiteral("keyhole.ini"));

        AppSettings settings;
        settings.proxyUrl = QUrl(QStringLiteral("https://tunnel.example.com"));
        settings.targetScheme = QStringLiteral("https");
        settings.targetHost = QStringLiteral("devbox");
        settings.targetPort = 8443;
        settings.name = QStringLiteral("blog");
        settings.caFile = QStringLiteral("/etc/ssl/ca.pem");
        settings.hostHeader = QStringLiteral("rewrite");
        settings.startTunnelOnLaunch = false;
        settings.startAtLogin = true;
        settings.firstRunDone = true;
        {
            QSettings store(file, QSettings::IniFormat);
            settings.save(store);
        }
        QSettings store(file, QSettings::IniFormat);
        const AppSettings loaded = AppSettings::load(store);
        QVERIFY(loaded == settings);
        QCOMPARE(loaded.hostHeader, QStringLiteral("rewrite"));
        QCOMPARE(loaded.toClientSettings(QStringLiteral("key.pem")).hostHeader, QStringLiteral("rewrite"));
        QCOMPARE(loaded.targetUrl(), QUrl(QStringLiteral("https://devbox:8443")));
    }

    void loadFromEmptyStoreGivesDefaults()
    {
        QTemporaryDir dir;
        QSettings store(dir.filePath(QStringLiteral("empty.ini")), QSettings::IniFormat);
        QVERIFY(AppSettings::load(store) == AppSettings());
    }

    void toClientSettings()
    {
        AppSettings settings;
        settings.targetPort = 4000;
        settings.name = QStringLiteral("api");
        const keyhole::client::ClientSettings client = settings.toClientSettings(QStringLiteral("/tmp/key.pem"));
        QCOMPARE(client.target, QUrl(QStringLiteral("http://127.0.0.1:4000")));
        QCOMPARE(client.proxyUrl, settings.proxyUrl);
        QCOMPARE(client.keyPath, QStringLiteral("/tmp/key.pem"));
        QCOMPARE(client.name, QStringLiteral("api"));
        QCOMPARE(client.validate(), QString());
    }
};

QTEST_GUILESS_MAIN(TestAppSettings)
#include "TestAppSettings.moc"
