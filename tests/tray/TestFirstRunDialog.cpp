#include "FirstRunDialog.h"

#include <QCheckBox>
#include <QDialogButtonBox>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QTest>

using namespace keyhole;
using tray::AppSettings;
using tray::FirstRunDialog;

class TestFirstRunDialog : public QObject
{
    Q_OBJECT

private:
    static AppSettings fresh()
    {
        AppSettings settings;
        settings.proxyUrl = QUrl(QStringLiteral("https://tunnel.example.com"));
        settings.targetPort = 3000;
        return settings;
    }

private Q_SLOTS:
    void enterStarts_data()
    {
        QTest::addColumn<QString>("focus");
        QTest::newRow("proxy URL") << QStringLiteral("proxyUrl");
        QTest::newRow("local port") << QStringLiteral("localPort");
    }

    void enterStarts()
    {
        QFETCH(QString, focus);
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        FirstRunDialog dialog(fresh(), *key);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto *field = dialog.findChild<QWidget *>(focus);
        QVERIFY(field);
        field->setFocus();
        if (auto *port = qobject_cast<QSpinBox *>(field))
            port->setValue(5000);
        QTest::keyClick(field, Qt::Key_Return);
        QCOMPARE(dialog.result(), int(QDialog::Accepted));
        QVERIFY(dialog.settings().firstRunDone);
        QCOMPARE(dialog.settings().proxyUrl, QUrl(QStringLiteral("https://tunnel.example.com")));
    }

    void startIsTheDefaultButton()
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        FirstRunDialog dialog(fresh(), *key);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto *buttons = dialog.findChild<QDialogButtonBox *>();
        QPushButton *cancel = buttons->button(QDialogButtonBox::Cancel);
        QVERIFY(cancel);
        QVERIFY(!cancel->isDefault());
        QVERIFY(!cancel->autoDefault());
        for (QAbstractButton *button : buttons->buttons()) {
            if (buttons->buttonRole(button) == QDialogButtonBox::AcceptRole)
                QVERIFY(qobject_cast<QPushButton *>(button)->isDefault());
        }
    }

    void enterWithAnInvalidUrlDoesNotCancel()
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        FirstRunDialog dialog(fresh(), *key);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto *url = dialog.findChild<QLineEdit *>(QStringLiteral("proxyUrl"));
        url->setFocus();
        url->setText(QStringLiteral("not a url"));
        QTest::keyClick(url, Qt::Key_Return);
        QVERIFY(dialog.isVisible());
        QCOMPARE(dialog.result(), int(QDialog::Rejected)); // still open: nothing decided
    }

    void offersTheHostRewriteForDevServerPorts_data()
    {
        QTest::addColumn<int>("port");
        QTest::addColumn<QString>("hostHeader");
        QTest::newRow("Vite") << 5173 << QStringLiteral("rewrite");
        QTest::newRow("Angular CLI") << 4200 << QStringLiteral("rewrite");
        QTest::newRow("3000") << 3000 << QString();
        QTest::newRow("8080") << 8080 << QString();
    }

    void offersTheHostRewriteForDevServerPorts()
    {
        QFETCH(int, port);
        QFETCH(QString, hostHeader);
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        FirstRunDialog dialog(fresh(), *key);
        dialog.findChild<QSpinBox *>(QStringLiteral("localPort"))->setValue(port);
        QCOMPARE(dialog.settings().hostHeader, hostHeader);
        QCOMPARE(dialog.findChild<QCheckBox *>(QStringLiteral("rewriteHost"))->isChecked(), !hostHeader.isEmpty());
    }

    void userChoiceOutlivesThePort()
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        FirstRunDialog dialog(fresh(), *key);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        auto *rewrite = dialog.findChild<QCheckBox *>(QStringLiteral("rewriteHost"));
        QVERIFY(!rewrite->isChecked());
        rewrite->click();
        dialog.findChild<QSpinBox *>(QStringLiteral("localPort"))->setValue(8080);
        QCOMPARE(dialog.settings().hostHeader, QStringLiteral("rewrite"));
    }

    void longHostnameKeepsTheDialogNarrow()
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        AppSettings settings = fresh();
        const QString longHost = QString(QStringLiteral("sub.")).repeated(40) + QStringLiteral("example.com");
        settings.proxyUrl = QUrl(QStringLiteral("https://") + longHost);
        FirstRunDialog dialog(settings, *key);
        dialog.show();
        QVERIFY(QTest::qWaitForWindowExposed(&dialog));
        QVERIFY2(dialog.width() < 800, qPrintable(QString::number(dialog.width())));
        auto *hostname = dialog.findChild<QLineEdit *>(QStringLiteral("hostname"));
        QVERIFY(hostname);
        QVERIFY(hostname->text().endsWith(longHost));
        QCOMPARE(hostname->toolTip(), hostname->text());
        QVERIFY(dialog.findChild<QPushButton *>(QStringLiteral("copyHostname")));

        // A validation message wraps below the fields and leaves them their height.
        auto *url = dialog.findChild<QLineEdit *>(QStringLiteral("proxyUrl"));
        const int fieldHeight = url->height();
        const int width = dialog.width();
        const int height = dialog.height();
        url->setText(QStringLiteral("not a url at all ") + longHost);
        QCoreApplication::processEvents(); // the layout request
        QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("problem"))->isVisible());
        QCOMPARE(url->height(), fieldHeight);
        QCOMPARE(dialog.height(), height);
        QVERIFY2(dialog.width() <= qMax(width, 800), qPrintable(QString::number(dialog.width())));
    }
};

QTEST_MAIN(TestFirstRunDialog)
#include "TestFirstRunDialog.moc"
