#include "SingleInstance.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
#include <QTemporaryDir>
#include <QTest>
#include <QUuid>

using keyhole::tray::SingleInstance;

class TestSingleInstance : public QObject
{
    Q_OBJECT

private:
    static QString uniqueName()
    {
        return QStringLiteral("keyhole-test-") + QUuid::createUuid().toString(QUuid::Id128).left(12);
    }

private Q_SLOTS:
    void secondLaunchAsksTheFirstToShow()
    {
        const QString name = uniqueName();
        SingleInstance first(name);
        QVERIFY2(first.claim(), qPrintable(first.errorString()));
        QSignalSpy shown(&first, &SingleInstance::showRequested);

        SingleInstance second(name);
        QVERIFY(!second.claim());
        QVERIFY(second.errorString().isEmpty());
        QTRY_COMPARE(shown.count(), 1);

        SingleInstance third(name);
        QVERIFY(!third.claim());
        QTRY_COMPARE(shown.count(), 2);
    }

    void firstInstanceGoneFreesTheName()
    {
        const QString name = uniqueName();
        {
            SingleInstance first(name);
            QVERIFY(first.claim());
        }
        SingleInstance next(name);
        QVERIFY2(next.claim(), qPrintable(next.errorString()));
    }

    void otherTrafficDoesNotShow()
    {
        const QString name = uniqueName();
        SingleInstance first(name);
        QVERIFY(first.claim());
        QSignalSpy shown(&first, &SingleInstance::showRequested);
        QLocalSocket socket;
        socket.connectToServer(name);
        QVERIFY(socket.waitForConnected(2000));
        socket.write("hello\n");
        QVERIFY(socket.waitForBytesWritten(2000));
        // The first instance closes the connection after reading the line, without showing.
        QTRY_COMPARE(socket.state(), QLocalSocket::UnconnectedState);
        QCOMPARE(shown.count(), 0);
    }

    void defaultNameFollowsTheRuntimeFolder()
    {
#ifdef Q_OS_WIN
        QVERIFY(SingleInstance::defaultName().startsWith(QStringLiteral("keyhole-tray-")));
        QCOMPARE(SingleInstance().serverName(), SingleInstance::defaultName());
#else
        // Two users (two runtime folders) get two names, each inside its own folder; the unnamed
        // constructor uses the current one.
        QTemporaryDir first;
        QTemporaryDir second;
        QVERIFY(first.isValid() && second.isValid());
        const auto ownerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner;
        QVERIFY(QFile::setPermissions(first.path(), ownerOnly));
        QVERIFY(QFile::setPermissions(second.path(), ownerOnly));
        const QByteArray previous = qgetenv("XDG_RUNTIME_DIR");
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(first.path()));
        const QString firstName = SingleInstance::defaultName();
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(second.path()));
        const QString secondName = SingleInstance::defaultName();
        const QString unnamed = SingleInstance().serverName();
        qputenv("XDG_RUNTIME_DIR", previous);
        QVERIFY(firstName != secondName);
        QCOMPARE(QFileInfo(firstName).absolutePath(), QFileInfo(first.path()).absoluteFilePath());
        QCOMPARE(QFileInfo(secondName).absolutePath(), QFileInfo(second.path()).absoluteFilePath());
        QVERIFY(QFileInfo(firstName).fileName().startsWith(QStringLiteral("keyhole-tray")));
        QCOMPARE(unnamed, secondName);
#endif
    }

    void profilesRunSideBySide()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString settingsFile = dir.filePath(QStringLiteral("work.ini"));
        const QString keyFile = dir.filePath(QStringLiteral("work.pem"));
        QCOMPARE(SingleInstance::nameForProfile(QString(), QString()), SingleInstance::defaultName());
        const QString work = SingleInstance::nameForProfile(settingsFile, keyFile);
        QVERIFY(work != SingleInstance::defaultName());
        QVERIFY(work != SingleInstance::nameForProfile(settingsFile, QString()));
        QVERIFY(work != SingleInstance::nameForProfile(QString(), keyFile));
        // The same profile however its paths are spelled.
        QCOMPARE(SingleInstance::nameForProfile(dir.path() + QStringLiteral("/./work.ini"), keyFile), work);

        // Two profiles both claim; a second launch of one finds it and asks it to show itself.
        const QString other = SingleInstance::nameForProfile(dir.filePath(QStringLiteral("home.ini")), QString());
        SingleInstance first(work);
        QVERIFY(first.claim());
        SingleInstance beside(other);
        QVERIFY(beside.claim());
        QSignalSpy shown(&first, &SingleInstance::showRequested);
        SingleInstance again(SingleInstance::nameForProfile(settingsFile, keyFile));
        QVERIFY(!again.claim());
        QVERIFY(again.errorString().isEmpty());
        QTRY_COMPARE(shown.size(), 1);
    }

    void defaultSocketLivesInTheUsersRuntimeFolder()
    {
#ifdef Q_OS_WIN
        QSKIP("a named pipe on Windows");
#else
        // Not a name under the shared temp folder, which any user could take first.
        QTemporaryDir runtime;
        QVERIFY(runtime.isValid());
        QVERIFY(QFile::setPermissions(runtime.path(),
                                      QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ExeOwner));
        const QByteArray previous = qgetenv("XDG_RUNTIME_DIR");
        qputenv("XDG_RUNTIME_DIR", QFile::encodeName(runtime.path()));
        const QString name = SingleInstance::defaultName();
        SingleInstance first;
        const bool claimed = first.claim();
        qputenv("XDG_RUNTIME_DIR", previous);
        QVERIFY2(claimed, qPrintable(first.errorString()));
        QCOMPARE(QFileInfo(name).absolutePath(), QFileInfo(runtime.path()).absoluteFilePath());
        QCOMPARE(first.serverName(), name);
        QVERIFY(QFileInfo(name).exists());
        QVERIFY(!name.startsWith(QDir::tempPath() + QLatin1String("/keyhole")));

        SingleInstance second(name);
        QSignalSpy shown(&first, &SingleInstance::showRequested);
        QVERIFY(!second.claim());
        QTRY_COMPARE(shown.count(), 1);
#endif
    }
};

QTEST_GUILESS_MAIN(TestSingleInstance)
#include "TestSingleInstance.moc"
