#include "Autostart.h"

#include <QFile>
#include <QTemporaryDir>
#include <QTest>

using keyhole::tray::Autostart;

class TestAutostart : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void enableAndDisable()
    {
#if defined(Q_OS_WIN) || defined(Q_OS_MACOS)
        QSKIP("the file format checked here is the XDG one");
#endif
        QTemporaryDir dir;
        const QString location = dir.filePath(QStringLiteral("autostart/keyhole.desktop"));
        Autostart autostart(QStringLiteral("/opt/Key hole/bin/keyhole"),
                            {QStringLiteral("--settings"), QStringLiteral("/tmp/a$b.ini")}, location);
        QCOMPARE(autostart.location(), location);
        QVERIFY(!autostart.isEnabled());

        QString error;
        QVERIFY2(autostart.setEnabled(true, &error), qPrintable(error));
        QVERIFY(autostart.isEnabled());
        QFile file(location);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY(text.startsWith("[Desktop Entry]\n"));
        QVERIFY2(text.contains("\nExec=\"/opt/Key hole/bin/keyhole\" --settings \"/tmp/a\\$b.ini\"\n"),
                 text.constData());
        QVERIFY(text.contains("\nType=Application\n"));

        QVERIFY(autostart.setEnabled(true, &error)); // idempotent
        QVERIFY(autostart.setEnabled(false, &error));
        QVERIFY(!autostart.isEnabled());
        QVERIFY(autostart.setEnabled(false, &error));
    }

    void defaultLocation()
    {
        Autostart autostart(QStringLiteral("/usr/bin/keyhole"));
#if defined(Q_OS_WIN)
        QVERIFY(autostart.location().contains(QStringLiteral("CurrentVersion\\Run")));
#elif defined(Q_OS_MACOS)
        QVERIFY(autostart.location().endsWith(QStringLiteral("LaunchAgents/org.keyhole.tray.plist")));
#else
        QVERIFY(autostart.location().endsWith(QStringLiteral("/autostart/keyhole.desktop")));
#endif
    }
};

QTEST_GUILESS_MAIN(TestAutostart)
#include "TestAutostart.moc"
