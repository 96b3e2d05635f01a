// A real browser through the tunnel: headless Chromium loads the page that tests/integration/ws_service.py
// serves at http://<label>.localhost:<proxy port>/ (plain HTTP through the tunnel); the page's script opens
// ws://<same host>/echo, sends a text and a binary message, checks the echoes byte by byte and writes
// PASS/FAIL into <pre id="result">. Skipped when Chromium is not installed (CI installs it).

#include "TestSupport.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QImage>
#include <QRegularExpression>
#include <QTemporaryDir>
#include <QTest>

#include <memory>

using namespace keyhole::testing;

namespace {
constexpr int BrowserTimeoutMs = 60000;
const QRegularExpression PageClosed(QStringLiteral("^ws-closed /echo\\?page=\\S+ 1000 done$"));

// Chromium's stderr without the D-Bus complaints of a machine without a session bus.
QString browserErrors(const ManagedProcess *browser)
{
    QStringList kept;
    for (const QByteArray &line : browser->stderrData().split('\n')) {
        if (!line.contains("dbus") && !line.trimmed().isEmpty())
            kept.append(QString::fromUtf8(line));
    }
    return kept.join(u'\n').right(1500);
}
} // namespace

class TestBrowser : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void cleanupTestCase();
    void cleanup();

    void testWebSocketPage();
    void testScreenshot();

private:
    // Runs Chromium headless on the tunnel's page with `extraArgs`; returns the finished process.
    std::unique_ptr<ManagedProcess> runChromium(const QStringList &extraArgs);

    QString m_chromium;
    std::unique_ptr<TunnelFixture> m_fx;
};

void TestBrowser::initTestCase()
{
    m_chromium = chromiumProgram();
    if (m_chromium.isEmpty())
        QSKIP("chromium is not installed (apt-get install chromium, or set KEYHOLE_CHROMIUM): browser test skipped");
    QString error;
    const QString python = wsPythonProgram(&error);
    QVERIFY2(!python.isEmpty(), qPrintable(error));
    m_fx = std::make_unique<TunnelFixture>();
    QVERIFY2(m_fx->startService(python, {wsServiceScript()}) && m_fx->startProxy() && m_fx->startClient(),
             qPrintable(m_fx->errorString()));
}

void TestBrowser::cleanupTestCase()
{
    m_fx.reset();
}

void TestBrowser::cleanup()
{
    if (QTest::currentTestFailed() && m_fx)
        m_fx->dumpOutput();
}

std::unique_ptr<ManagedProcess> TestBrowser::runChromium(const QStringList &extraArgs)
{
    auto browser = std::make_unique<ManagedProcess>(QStringLiteral("chromium"));
    QTemporaryDir profile; // a fresh profile each run: no cache, no first-run state
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), profile.path());
    const QStringList args =
        QStringList{QStringLiteral("--headless"), QStringLiteral("--no-sandbox"), QStringLiteral("--disable-gpu"),
                    QStringLiteral("--disable-quic"), QStringLiteral("--no-first-run"),
                    QStringLiteral("--no-proxy-server"), QStringLiteral("--disable-background-networking"),
                    QStringLiteral("--disable-component-update"), QStringLiteral("--disable-sync"),
                    QStringLiteral("--disable-dev-shm-usage"),
                    QStringLiteral("--user-data-dir=") + profile.filePath(QStringLiteral("profile")),
                    // The page's script runs to its result before the DOM is dumped or the shot taken.
                    QStringLiteral("--virtual-time-budget=10000")}
        + extraArgs
        // Chromium resolves every *.localhost name to loopback by itself.
        + QStringList{m_fx->visitorUrl(QStringLiteral("/"))};
    if (!browser->start(m_chromium, args, env)) {
        qWarning().noquote() << browser->errorString();
        return browser;
    }
    if (!browser->waitForExit(BrowserTimeoutMs)) {
        qWarning().noquote() << browser->errorString();
        browser->kill();
    }
    return browser;
}

void TestBrowser::testWebSocketPage()
{
    std::unique_ptr<ManagedProcess> browser = runChromium({QStringLiteral("--dump-dom")});
    const QString dom = QString::fromUtf8(browser->stdoutData());
    const QRegularExpressionMatch result =
        QRegularExpression(QStringLiteral("<pre id=\"result\"[^>]*>([^<]*)</pre>")).match(dom);
    const QRegularExpressionMatch log = QRegularExpression(QStringLiteral("<pre id=\"log\">([^<]*)</pre>")).match(dom);
    const QString detail = QStringLiteral("result %1 | page log: %2 | chromium exit %3, stderr: %4")
                               .arg(result.captured(1), log.captured(1).replace(u'\n', u';'))
                               .arg(browser->exitCode())
                               .arg(browserErrors(browser.get()));
    QVERIFY2(result.hasMatch(),
             qPrintable(QStringLiteral("no #result in the dumped DOM: %1 | %2").arg(dom.left(1500), detail)));
    QVERIFY2(result.captured(1).startsWith(QStringLiteral("PASS ")), qPrintable(detail));
    // Both hops really carried a WebSocket (not some cached page).
    const QRegularExpression serviceOpened(QStringLiteral("^ws-open /echo\\?page="));
    QVERIFY2(m_fx->service()->waitForLine(serviceOpened, 5000).hasMatch(), qPrintable(m_fx->service()->errorString()));
    const QRegularExpression clientOpened(QStringLiteral("^WS /echo\\S* open"));
    QVERIFY2(m_fx->client()->waitForLine(clientOpened, 5000).hasMatch(), qPrintable(m_fx->client()->errorString()));
    // The page closed with 1000 "done" once it had its result; that close reached the service too.
    QVERIFY2(m_fx->service()->waitForLine(PageClosed, 5000).hasMatch(), qPrintable(m_fx->service()->errorString()));
}

void TestBrowser::testScreenshot()
{
    const QString dir = QStringLiteral(KEYHOLE_ARTIFACTS_DIR);
    QVERIFY(QDir().mkpath(dir));
    const QString shot = dir + QStringLiteral("/browser-websocket.png");
    QFile::remove(shot);
    std::unique_ptr<ManagedProcess> browser = runChromium({QStringLiteral("--screenshot=") + shot,
                                                           QStringLiteral("--window-size=800,600"),
                                                           QStringLiteral("--hide-scrollbars")});
    QFile file(shot);
    QVERIFY2(
        file.open(QIODevice::ReadOnly),
        qPrintable(QStringLiteral("no screenshot at %1; chromium stderr: %2").arg(shot, browserErrors(browser.get()))));
    QVERIFY2(file.read(8) == QByteArray("\x89PNG\r\n\x1a\n", 8), "the screenshot is not a PNG");
    // The shot was taken once the page had its result (its load event waits for the WebSocket to close).
    QVERIFY2(m_fx->service()->waitForLine(PageClosed, 5000).hasMatch(), qPrintable(m_fx->service()->errorString()));
    QVERIFY2(QFileInfo(shot).size() > 1000, "the screenshot is suspiciously small");
    // The page's verdict, as the shot shows it: the page paints its background green on PASS, red on FAIL
    // (ws_service.py), PENDING leaves it white.
    const QImage image(shot);
    QVERIFY2(!image.isNull(), "the screenshot does not load as an image");
    const QString background = image.pixelColor(5, image.height() - 5).name();
    QVERIFY2(background == QLatin1String("#c8f7c5"),
             qPrintable(QStringLiteral("the page in the screenshot shows %1, not the PASS green #c8f7c5")
                            .arg(background == QLatin1String("#f7c5c5") ? QStringLiteral("FAIL (red)") : background)));
    qInfo().noquote() << "screenshot kept at" << shot;
}

QTEST_GUILESS_MAIN(TestBrowser)
#include "TestBrowser.moc"
