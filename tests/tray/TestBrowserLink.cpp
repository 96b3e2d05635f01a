#include "BrowserLink.h"

#include <QDesktopServices>
#include <QTest>

using keyhole::tray::BrowserLink;

// Stands in for the desktop: records what QDesktopServices would have opened, per scheme.
class UrlRecorder : public QObject
{
    Q_OBJECT

public:
    QList<QUrl> opened;

public Q_SLOTS:
    void open(const QUrl &url) { opened.append(url); }
};

class TestBrowserLink : public QObject
{
    Q_OBJECT

private:
    UrlRecorder m_recorder;
    const QStringList m_schemes{QStringLiteral("http"),          QStringLiteral("https"), QStringLiteral("file"),
                                QStringLiteral("javascript"),    QStringLiteral("ssh"),   QStringLiteral("smb"),
                                QStringLiteral("x-keyhole-test")};

private Q_SLOTS:
    void initTestCase()
    {
        for (const QString &scheme : m_schemes)
            QDesktopServices::setUrlHandler(scheme, &m_recorder, "open");
    }

    void cleanupTestCase()
    {
        for (const QString &scheme : m_schemes)
            QDesktopServices::unsetUrlHandler(scheme);
    }

    void init() { m_recorder.opened.clear(); }

    void opensOnlyWebUrls_data()
    {
        QTest::addColumn<QString>("url");
        QTest::addColumn<bool>("opened");
        QTest::newRow("http") << "http://abc.localhost:8080/" << true;
        QTest::newRow("https") << "https://abc.tunnel.example.com" << true;
        QTest::newRow("HTTPS upper case") << "HTTPS://abc.tunnel.example.com/x" << true;
        QTest::newRow("file") << "file:///etc/passwd" << false;
        QTest::newRow("file with host") << "file://server/share/run.desktop" << false;
        QTest::newRow("javascript") << "javascript:alert(1)" << false;
        QTest::newRow("ssh") << "ssh://attacker.example/" << false;
        QTest::newRow("smb") << "smb://attacker.example/share" << false;
        QTest::newRow("custom scheme") << "x-keyhole-test://anything" << false;
        QTest::newRow("http without host") << "http:///path" << false;
        QTest::newRow("relative") << "/just/a/path" << false;
    }

    void opensOnlyWebUrls()
    {
        QFETCH(QString, url);
        QFETCH(bool, opened);
        const QUrl parsed(url);
        QCOMPARE(BrowserLink::open(parsed), opened);
        QCOMPARE(m_recorder.opened.size(), opened ? 1 : 0);
        if (opened)
            QCOMPARE(m_recorder.opened.first(), parsed);
    }
};

QTEST_MAIN(TestBrowserLink)
#include "TestBrowserLink.moc"
