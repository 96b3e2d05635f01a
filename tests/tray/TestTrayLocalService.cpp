#include "CannedHttpService.h"
#include "FakeProxy.h"
#include "TrayController.h"
#include "TunnelClient.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace keyhole;
using client::ClientState;
using keyhole::testing::CannedHttpService;
using tray::AppSettings;
using tray::TrayController;

// The tray's view of the local service: a refused port turns "Online" into a distinct state with one
// notification, and the next good answer clears it by itself.
class TestTrayLocalService : public QObject
{
    Q_OBJECT

private:
    static void visit(FakeProxy &proxy, const QByteArray &id)
    {
        protocol::HttpRequest request;
        request.id = id;
        request.method = "GET";
        request.path = "/";
        request.headers = {{"Host", "label.tunnel.test"}};
        proxy.send(request);
    }

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<ClientState>(); }

    void downThenBack()
    {
        QTcpServer placeholder;
        QVERIFY(placeholder.listen(QHostAddress::LocalHost, 0));
        const quint16 port = placeholder.serverPort();
        placeholder.close(); // nothing listens there now: connections are refused

        FakeProxy proxy;
        AppSettings settings;
        settings.proxyUrl = proxy.url();
        settings.targetPort = port;
        settings.firstRunDone = true;
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        TrayController controller(settings, std::move(*key), QStringLiteral("/tmp/unused-key.pem"));
        QSignalSpy down(&controller, &TrayController::localServiceDown);
        QSignalSpy back(&controller, &TrayController::localServiceBack);
        controller.start();
        QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
        proxy.accept();
        QTRY_COMPARE(controller.state(), ClientState::Online);
        QCOMPARE(controller.presentation().stateLine, QStringLiteral("Online"));

        visit(proxy, "r1");
        visit(proxy, "r2");
        QTRY_COMPARE(proxy.all<protocol::HttpResponse>().size(), 2);
        QTRY_COMPARE(down.size(), 1);
        QCOMPARE(down.size(), 1); // one notification for the outage, not one per request
        const QString expected = QStringLiteral("Local service not answering on 127.0.0.1:%1").arg(port);
        QCOMPARE(controller.presentation().stateLine, expected);
        QCOMPARE(controller.presentation().iconPath, QStringLiteral(":/icons/keyhole-degraded.svg"));
        QCOMPARE(controller.state(), ClientState::Online);

        CannedHttpService service("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", nullptr, port);
        QVERIFY(service.isListening());
        visit(proxy, "r3");
        QTRY_COMPARE(back.size(), 1);
        QCOMPARE(controller.presentation().stateLine, QStringLiteral("Online"));
        QCOMPARE(down.size(), 1);
        QCOMPARE(controller.requestCount(), 3);
        QVERIFY(controller.bytesOut() >= 2);
    }
};

QTEST_MAIN(TestTrayLocalService)
#include "TestTrayLocalService.moc"
