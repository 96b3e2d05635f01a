#include "SettingsDialog.h"
#include "TrayController.h"
#include "TunnelClient.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSignalSpy>
#include <QSpinBox>
#include <QTest>

using namespace keyhole;
using tray::AppSettings;
using tray::SettingsDialog;
using tray::TrayController;

class TestSettingsDialog : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TrayController> makeController()
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        if (!key)
            return {};
        AppSettings settings;
        settings.proxyUrl = QUrl(QStringLiteral("http://proxy.test:8080"));
        settings.targetPort = 3000;
        return std::make_unique<TrayController>(settings, std::move(*key), QStringLiteral("/tmp/unused-key.pem"));
    }

    static QPushButton *okButton(SettingsDialog &dialog)
    {
        return dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Ok);
    }

private Q_SLOTS:
    void editsACopyUntilOk()
    {
        auto controller = makeController();
        QVERIFY(controller);
        SettingsDialog dialog(controller.get());
        QVERIFY(okButton(dialog)->isEnabled());

        dialog.findChild<QSpinBox *>(QStringLiteral("targetPort"))->setValue(4000);
        dialog.findChild<QLineEdit *>(QStringLiteral("name"))->setText(QStringLiteral("blog"));
        dialog.findChild<QCheckBox *>(QStringLiteral("startTunnelOnLaunch"))->setChecked(false);

        QCOMPARE(dialog.editedSettings().targetPort, 4000);
        // The controller keeps its settings while the user edits.
        QCOMPARE(controller->settings().targetPort, 3000);
        QCOMPARE(controller->settings().name, QString());

        QSignalSpy applied(&dialog, &SettingsDialog::applied);
        QSignalSpy changed(controller.get(), &TrayController::changed);
        okButton(dialog)->click();
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QCOMPARE(applied.count(), 1);
        QVERIFY(changed.count() >= 1);
        QCOMPARE(controller->settings().targetPort, 4000);
        QCOMPARE(controller->settings().name, QStringLiteral("blog"));
        QVERIFY(!controller->settings().startTunnelOnLaunch);
        // ...and the tunnel got them too.
        QCOMPARE(controller->tunnel()->settings().target, QUrl(QStringLiteral("http://127.0.0.1:4000")));
        QCOMPARE(controller->tunnel()->settings().name, QStringLiteral("blog"));
    }

    void cancelAppliesNothing()
    {
        auto controller = makeController();
        QVERIFY(controller);
        const AppSettings before = controller->settings();
        SettingsDialog dialog(controller.get());
        dialog.findChild<QLineEdit *>(QStringLiteral("proxyUrl"))->setText(QStringLiteral("https://other.test"));
        dialog.findChild<QDialogButtonBox *>()->button(QDialogButtonBox::Cancel)->click();
        QCOMPARE(dialog.result(), int(QDialog::Rejected));
        QVERIFY(controller->settings() == before);
    }

    void validatesAsYouType_data()
    {
        QTest::addColumn<QString>("field");
        QTest::addColumn<QString>("text");
        QTest::addColumn<QString>("problem");

        QTest::newRow("proxy not a URL") << "proxyUrl"
                                         << "not a url"
                                         << "proxy";
        QTest::newRow("proxy ftp") << "proxyUrl"
                                   << "ftp://x.test"
                                   << "proxy";
        QTest::newRow("proxy empty") << "proxyUrl"
                                     << ""
                                     << "proxy";
        QTest::newRow("empty host") << "targetHost"
                                    << ""
                                    << "host";
        QTest::newRow("bad name") << "name"
                                  << "No Spaces"
                                  << "name";
        QTest::newRow("missing CA") << "caFile"
                                    << "/nonexistent/ca.pem"
                                    << "CA file";
    }

    void validatesAsYouType()
    {
        QFETCH(QString, field);
        QFETCH(QString, text);
        QFETCH(QString, problem);

        auto controller = makeController();
        QVERIFY(controller);
        const AppSettings before = controller->settings();
        SettingsDialog dialog(controller.get());
        auto *problemLabel = dialog.findChild<QLabel *>(QStringLiteral("problem"));
        QVERIFY(problemLabel);
        QCOMPARE(problemLabel->text(), QString());

        auto *edit = dialog.findChild<QLineEdit *>(field);
        QVERIFY(edit);
        const QString original = edit->text();
        edit->clear();
        QTest::keyClicks(edit, text);
        QVERIFY2(problemLabel->text().contains(problem, Qt::CaseInsensitive), qPrintable(problemLabel->text()));
        QVERIFY(!okButton(dialog)->isEnabled());

        // OK cannot sneak invalid settings through either.
        dialog.accept();
        QVERIFY(controller->settings() == before);
        QCOMPARE(dialog.result(), int(QDialog::Rejected));

        // Fixing the field clears the problem.
        edit->setText(original);
        QCOMPARE(problemLabel->text(), QString());
        QVERIFY(okButton(dialog)->isEnabled());
    }

    void controllerRejectsInvalidSettings()
    {
        auto controller = makeController();
        QVERIFY(controller);
        AppSettings bad = controller->settings();
        bad.targetPort = 0;
        QVERIFY(!controller->applySettings(bad).isEmpty());
        QCOMPARE(controller->settings().targetPort, 3000);
        QVERIFY(!controller->setLocalPort(70000).isEmpty());
        QCOMPARE(controller->setLocalPort(5173), QString());
        QCOMPARE(controller->tunnel()->settings().target.port(), 5173);
    }

    void warnsThatThePublicUrlChanges()
    {
        auto controller = makeController();
        QVERIFY(controller);
        SettingsDialog dialog(controller.get());
        auto *warning = dialog.findChild<QLabel *>(QStringLiteral("urlChange"));
        QVERIFY(warning);
        QVERIFY(!warning->isVisibleTo(&dialog));

        auto *name = dialog.findChild<QLineEdit *>(QStringLiteral("name"));
        name->setText(QStringLiteral("blog"));
        const QString newHost = controller->tunnel()->predictedHostname(QStringLiteral("blog"),
                                                                        controller->settings().proxyUrl);
        QVERIFY(!newHost.isEmpty());
        QVERIFY(newHost != controller->predictedHostname());
        QVERIFY(warning->isVisibleTo(&dialog));
        QVERIFY2(warning->text().contains(QStringLiteral("http://%1:8080").arg(newHost)), qPrintable(warning->text()));
        QVERIFY2(warning->text().contains(QStringLiteral("will change")), qPrintable(warning->text()));

        // Other fields do not change the URL; the name back as it was: no warning.
        dialog.findChild<QSpinBox *>(QStringLiteral("targetPort"))->setValue(4000);
        name->setText(QString());
        QVERIFY(!warning->isVisibleTo(&dialog));

        dialog.findChild<QLineEdit *>(QStringLiteral("proxyUrl"))->setText(QStringLiteral("https://other.test"));
        QVERIFY(warning->isVisibleTo(&dialog));
        QVERIFY2(warning->text().contains(QStringLiteral("https://%1.other.test").arg(controller->label())),
                 qPrintable(warning->text()));
    }

    void hostHeaderChoices_data()
    {
        QTest::addColumn<int>("mode");
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("hostHeader");
        QTest::newRow("keep") << 0 << QString() << QString();
        QTest::newRow("rewrite") << 1 << QString() << QStringLiteral("rewrite");
        QTest::newRow("value") << 2 << QStringLiteral("myapp.local") << QStringLiteral("myapp.local");
    }

    void hostHeaderChoices()
    {
        QFETCH(int, mode);
        QFETCH(QString, value);
        QFETCH(QString, hostHeader);
        auto controller = makeController();
        QVERIFY(controller);
        SettingsDialog dialog(controller.get());
        dialog.findChild<QComboBox *>(QStringLiteral("hostHeaderMode"))->setCurrentIndex(mode);
        dialog.findChild<QLineEdit *>(QStringLiteral("hostHeaderValue"))->setText(value);
        QCOMPARE(dialog.editedSettings().hostHeader, hostHeader);
        okButton(dialog)->click();
        QCOMPARE(controller->settings().hostHeader, hostHeader);
        QCOMPARE(controller->tunnel()->settings().hostHeader, hostHeader);

        // Opened again, the dialog shows what is set.
        SettingsDialog again(controller.get());
        QCOMPARE(again.findChild<QComboBox *>(QStringLiteral("hostHeaderMode"))->currentIndex(), mode);
        QCOMPARE(again.editedSettings().hostHeader, hostHeader);
    }
};

QTEST_MAIN(TestSettingsDialog)
#include "TestSettingsDialog.moc"
