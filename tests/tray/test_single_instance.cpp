#include "SingleInstance.h"

#include <QLocalServer>
#include <QLocalSocket>
#include <QSignalSpy>
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

    void defaultNameIsStable()
    {
        QCOMPARE(SingleInstance::defaultName(), SingleInstance::defaultName());
        QVERIFY(SingleInstance::defaultName().startsWith(QStringLiteral("keyhole-tray-")));
        QCOMPARE(SingleInstance().serverName(), SingleInstance::defaultName());
    }
};

QTEST_GUILESS_MAIN(TestSingleInstance)
#include "test_single_instance.moc"
