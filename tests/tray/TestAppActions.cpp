#include "AppActions.h"
#include "SettingsDialog.h"
#include "TrayController.h"

#include <QAction>
#include <QTest>

using namespace keyhole;
using tray::AppActions;
using tray::AppSettings;
using tray::TrayController;

class TestAppActions : public QObject
{
    Q_OBJECT

private:
    static std::unique_ptr<TrayController> makeController(bool setupDone)
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        if (!key)
            return {};
        AppSettings settings;
        settings.proxyUrl = QUrl(QStringLiteral("http://proxy.test:8080"));
        settings.firstRunDone = setupDone;
        return std::make_unique<TrayController>(settings, std::move(*key), QStringLiteral("/tmp/unused-key.pem"));
    }

private Q_SLOTS:
    void unfinishedSetupIsOfferedAgain()
    {
        auto controller = makeController(false);
        QVERIFY(controller);
        AppActions actions(controller.get());
        QCOMPARE(actions.stateLine()->text(), QStringLiteral("Setup not finished"));
        QVERIFY(actions.finishSetup()->isVisible());
        // No "Start tunnel" that would dial a proxy the user never chose.
        QVERIFY(!actions.startStop()->isVisible());
        QVERIFY(actions.menuOrder().contains(actions.finishSetup()));
    }

    void settingsOkCountsAsSetup()
    {
        auto controller = makeController(false);
        QVERIFY(controller);
        AppActions actions(controller.get());
        tray::SettingsDialog dialog(controller.get());
        dialog.accept();
        QVERIFY(controller->settings().firstRunDone);
        QVERIFY(!actions.finishSetup()->isVisible());
        QVERIFY(actions.startStop()->isVisible());
    }

    void finishedSetupStartsAndStops()
    {
        auto controller = makeController(true);
        QVERIFY(controller);
        AppActions actions(controller.get());
        QCOMPARE(actions.stateLine()->text(), QStringLiteral("Tunnel stopped"));
        QVERIFY(!actions.finishSetup()->isVisible());
        QVERIFY(actions.startStop()->isVisible());
        QCOMPARE(actions.startStop()->text(), QStringLiteral("Start tunnel"));
    }

    void showsTheProxyCountersAndCommands()
    {
        auto controller = makeController(true);
        QVERIFY(controller);
        AppActions actions(controller.get());
        QCOMPARE(actions.proxyLine()->text(), QStringLiteral("Proxy: proxy.test:8080"));
        QVERIFY(!actions.proxyLine()->isEnabled());
        QVERIFY2(actions.trafficLine()->text().startsWith(QStringLiteral("0 requests")),
                 qPrintable(actions.trafficLine()->text()));
        QVERIFY(!actions.reconnectNow()->isEnabled()); // nothing to skip while stopped
        for (QAction *action :
             {actions.proxyLine(), actions.trafficLine(), actions.reconnectNow(), actions.openLog(), actions.about()})
            QVERIFY(actions.menuOrder().contains(action));
    }
};

QTEST_MAIN(TestAppActions)
#include "TestAppActions.moc"
