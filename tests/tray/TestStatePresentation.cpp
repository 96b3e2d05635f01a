#include "StatePresentation.h"
#include "TrayApplication.h"

#include <QFile>
#include <QIcon>
#include <QTest>

using keyhole::client::ClientState;
using keyhole::tray::StatePresentation;

class TestStatePresentation : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase() { keyhole::tray::initResources(); }

    void everyState_data()
    {
        QTest::addColumn<ClientState>("state");
        QTest::addColumn<QString>("icon");
        QTest::addColumn<QString>("line");

        QTest::newRow("offline") << ClientState::Offline << ":/icons/keyhole-offline.svg"
                                 << "Tunnel stopped";
        QTest::newRow("connecting") << ClientState::Connecting << ":/icons/keyhole-connecting.svg"
                                    << "Connecting to the proxy…";
        QTest::newRow("registering") << ClientState::Registering << ":/icons/keyhole-connecting.svg"
                                     << "Registering…";
        QTest::newRow("online") << ClientState::Online << ":/icons/keyhole-online.svg"
                                << "Online";
        QTest::newRow("waiting") << ClientState::WaitingToReconnect << ":/icons/keyhole-connecting.svg"
                                 << "Connection lost, retrying in 7 s";
        QTest::newRow("refused") << ClientState::Refused << ":/icons/keyhole-error.svg"
                                 << "Registration refused: not authorized";
        QTest::newRow("replaced") << ClientState::Replaced << ":/icons/keyhole-error.svg"
                                  << "Taken over by another client with this key";
    }

    void everyState()
    {
        QFETCH(ClientState, state);
        QFETCH(QString, icon);
        QFETCH(QString, line);

        StatePresentation::Input input;
        input.state = state;
        input.publicUrl = QStringLiteral("http://abc.localhost:8080");
        input.now = QDateTime(QDate(2026, 1, 1), QTime(12, 0), Qt::UTC);
        input.nextRetry = input.now.addMSecs(6500);
        input.detail = QStringLiteral("not authorized");
        const StatePresentation p = StatePresentation::of(input);

        QCOMPARE(p.iconPath, icon);
        QCOMPARE(p.stateLine, line);
        QVERIFY(p.toolTip.startsWith(QStringLiteral("Keyhole: ") + line));
        QCOMPARE(p.toolTip.contains(input.publicUrl), state == ClientState::Online);
        QVERIFY2(QFile::exists(p.iconPath), qPrintable(p.iconPath));
        QVERIFY2(!QIcon(p.iconPath).pixmap(22, 22).isNull(), "the icon does not render (Qt SVG plugin missing?)");
    }

    void everyEnumValueIsCovered()
    {
        // A new ClientState must get its own presentation: each one here is distinct and non-empty.
        QSet<QString> lines;
        for (int s = int(ClientState::Offline); s <= int(ClientState::Replaced); ++s) {
            StatePresentation::Input input;
            input.state = ClientState(s);
            const StatePresentation p = StatePresentation::of(input);
            QVERIFY(!p.iconPath.isEmpty());
            QVERIFY(!p.stateLine.isEmpty());
            lines.insert(p.stateLine);
        }
        QCOMPARE(lines.size(), int(ClientState::Replaced) + 1);
    }

    void waitingWithoutRetryTime()
    {
        StatePresentation::Input input;
        input.state = ClientState::WaitingToReconnect;
        input.detail = QStringLiteral("connection refused");
        const StatePresentation p = StatePresentation::of(input);
        QCOMPARE(p.stateLine, QStringLiteral("Connection lost, retrying…"));
        QVERIFY(p.toolTip.contains(QStringLiteral("connection refused")));
    }

    void truthfulStates_data()
    {
        QTest::addColumn<ClientState>("state");
        QTest::addColumn<QString>("localProblem");
        QTest::addColumn<QString>("lastingProblem");
        QTest::addColumn<bool>("setupDone");
        QTest::addColumn<QString>("icon");
        QTest::addColumn<QString>("line");

        QTest::newRow("online, service down")
            << ClientState::Online << "the local service at 127.0.0.1:3000 refused the connection" << QString() << true
            << ":/icons/keyhole-degraded.svg"
            << "Local service not answering on 127.0.0.1:3000";
        QTest::newRow("online, service answers")
            << ClientState::Online << QString() << QString() << true << ":/icons/keyhole-online.svg"
            << "Online";
        QTest::newRow("lasting while waiting")
            << ClientState::WaitingToReconnect << QString() << "The proxy host nope.example was not found" << true
            << ":/icons/keyhole-error.svg"
            << "The proxy host nope.example was not found";
        QTest::newRow("lasting while connecting again")
            << ClientState::Connecting << QString() << "The proxy host nope.example was not found" << true
            << ":/icons/keyhole-error.svg"
            << "The proxy host nope.example was not found";
        QTest::newRow("setup not finished")
            << ClientState::Offline << QString() << QString() << false << ":/icons/keyhole-offline.svg"
            << "Setup not finished";
        // A local problem from before says nothing once the tunnel is down.
        QTest::newRow("offline ignores the service")
            << ClientState::Offline << "refused" << QString() << true << ":/icons/keyhole-offline.svg"
            << "Tunnel stopped";
    }

    void truthfulStates()
    {
        QFETCH(ClientState, state);
        QFETCH(QString, localProblem);
        QFETCH(QString, lastingProblem);
        QFETCH(bool, setupDone);
        QFETCH(QString, icon);
        QFETCH(QString, line);

        StatePresentation::Input input;
        input.state = state;
        input.localProblem = localProblem;
        input.targetAuthority = QStringLiteral("127.0.0.1:3000");
        input.lastingProblem = lastingProblem;
        input.advice = QStringLiteral("Check the proxy URL in Settings.");
        input.setupDone = setupDone;
        const StatePresentation p = StatePresentation::of(input);
        QCOMPARE(p.iconPath, icon);
        QCOMPARE(p.stateLine, line);
        QVERIFY2(QFile::exists(p.iconPath), qPrintable(p.iconPath));
        if (state == ClientState::Online && !localProblem.isEmpty())
            QVERIFY(p.toolTip.contains(localProblem));
        if (!lastingProblem.isEmpty())
            QVERIFY(p.toolTip.contains(input.advice));
    }

    void refusedWithoutReason()
    {
        StatePresentation::Input input;
        input.state = ClientState::Refused;
        QCOMPARE(StatePresentation::of(input).stateLine, QStringLiteral("Registration refused"));
    }
};

QTEST_MAIN(TestStatePresentation)
#include "TestStatePresentation.moc"
