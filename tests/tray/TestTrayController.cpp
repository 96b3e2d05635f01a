// Integration: TrayController against the real keyhole-proxy and a local service.
#include "TestSupport.h"
#include "TrayController.h"
#include "TunnelClient.h"
#include "crypto/Label.h"

#include <QNetworkAccessManager>
#include <QNetworkReply>
#include <QSignalSpy>
#include <QTest>

using namespace keyhole;
using client::ClientState;
using tray::TrayController;

class TestTrayController : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<TrayController> m_controller;
    std::unique_ptr<testing::TunnelFixture> m_fixture;

    bool setUpTunnel()
    {
        m_fixture = std::make_unique<testing::TunnelFixture>();
        if (!m_fixture->startService() || !m_fixture->startProxy()) {
            qWarning("%s", qPrintable(m_fixture->errorString()));
            return false;
        }
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        if (!key)
            return false;
        tray::AppSettings settings;
        settings.proxyUrl = QUrl(QStringLiteral("http://localhost:%1").arg(m_fixture->proxyPort()));
        settings.targetPort = m_fixture->servicePort();
        m_controller = std::make_unique<TrayController>(settings, std::move(*key), m_fixture->keyFile());
        return true;
    }

    QString expectedUrl() const
    {
        return QStringLiteral("http://%1.localhost:%2").arg(m_controller->label()).arg(m_fixture->proxyPort());
    }

private Q_SLOTS:
    void cleanup()
    {
        if (QTest::currentTestFailed() && m_fixture)
            m_fixture->dumpOutput();
        m_controller.reset();
        m_fixture.reset();
    }

    void goesOnlineAndSurvivesAProxyRestart()
    {
        QVERIFY(setUpTunnel());
        QSignalSpy online(m_controller.get(), &TrayController::wentOnline);
        QSignalSpy lost(m_controller.get(), &TrayController::connectionLost);
        QSignalSpy requests(m_controller.get(), &TrayController::requestFinished);
        m_controller->setLostNoticeDelay(1);

        QCOMPARE(m_controller->state(), ClientState::Offline);
        QVERIFY(!m_controller->isRunning());
        QVERIFY(m_controller->predictedHostname().startsWith(m_controller->label() + QStringLiteral(".localhost")));
        m_controller->start();
        QVERIFY(m_controller->isRunning());
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->state(), ClientState::Online, 20000);
        QCOMPARE(m_controller->publicUrl(), expectedUrl());
        QCOMPARE(online.count(), 1);
        QCOMPARE(online.first().first().toString(), expectedUrl());
        QCOMPARE(m_controller->presentation().iconPath, QStringLiteral(":/icons/keyhole-online.svg"));
        QVERIFY(m_controller->presentation().toolTip.contains(expectedUrl()));

        // A visitor request shows up for the log.
        QNetworkAccessManager nam;
        const QUrl visitor(QStringLiteral("http://127.0.0.1:%1/proxy/request/%2/echo/tray")
                               .arg(m_fixture->proxyPort())
                               .arg(m_controller->label()));
        std::unique_ptr<QNetworkReply> reply(nam.get(QNetworkRequest(visitor)));
        QTRY_VERIFY_WITH_TIMEOUT(reply->isFinished(), 15000);
        QCOMPARE(reply->attribute(QNetworkRequest::HttpStatusCodeAttribute).toInt(), 200);
        QTRY_COMPARE(requests.count(), 1);
        const auto record = requests.first().first().value<client::RequestRecord>();
        QCOMPARE(record.path, QByteArray("/echo/tray"));
        QCOMPARE(record.status, 200);

        // The proxy dies and comes back on the same port: the tray says so and goes online again.
        QVERIFY2(m_fixture->restartProxy(), qPrintable(m_fixture->errorString()));
        QTRY_COMPARE_WITH_TIMEOUT(lost.count(), 1, 20000);
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->state(), ClientState::Online, 30000);
        QCOMPARE(m_controller->publicUrl(), expectedUrl());
        QTRY_COMPARE(online.count(), 2); // told again, after the outage notice

        m_controller->stop();
        QCOMPARE(m_controller->state(), ClientState::Offline);
        QVERIFY(!m_controller->isRunning());
        QCOMPARE(m_controller->presentation().iconPath, QStringLiteral(":/icons/keyhole-offline.svg"));
    }

    void reachabilitySkipsTheBackoffWait()
    {
        QVERIFY(setUpTunnel());
        // Always the longest delay, so only reconnectNow() can bring the tunnel back within the test.
        m_controller->tunnel()->setBackoff(client::Backoff(60000, 60000, [] { return 1.0; }));
        m_controller->start();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->state(), ClientState::Online, 20000);

        const quint16 port = m_fixture->proxyPort();
        m_fixture->killProxy();
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->state(), ClientState::WaitingToReconnect, 20000);
        QVERIFY(m_controller->nextRetry() > QDateTime::currentDateTimeUtc().addSecs(30));
        QVERIFY(m_controller->presentation().stateLine.startsWith(QStringLiteral("Connection lost, retrying in")));

        QVERIFY2(m_fixture->startProxy({}, port), qPrintable(m_fixture->errorString()));
        // Losing the network does nothing; getting it back reconnects at once.
        m_controller->onReachabilityChanged(QNetworkInformation::Reachability::Disconnected);
        QCOMPARE(m_controller->state(), ClientState::WaitingToReconnect);
        m_controller->onReachabilityChanged(QNetworkInformation::Reachability::Online);
        QTRY_COMPARE_WITH_TIMEOUT(m_controller->state(), ClientState::Online, 15000);
        QCOMPARE(m_controller->publicUrl(), expectedUrl());
    }
};

QTEST_GUILESS_MAIN(TestTrayController)
#include "TestTrayController.moc"
