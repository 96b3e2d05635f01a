#include "CannedHttpService.h"
#include "FakeProxy.h"
#include "TunnelClient.h"
#include "crypto/KeyPair.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using namespace keyhole;
using client::ClientState;
using client::TunnelClient;
using keyhole::testing::CannedHttpService;

// What the tunnel client says about the local service behind it: not answering (and answering again),
// and a dev server that refuses the forwarded Host.
class TestLocalServiceState : public QObject
{
    Q_OBJECT

private:
    static std::unique_ptr<TunnelClient> onlineClient(FakeProxy &proxy, const QUrl &target,
                                                      const QString &hostHeader = {})
    {
        client::ClientSettings settings;
        settings.proxyUrl = proxy.url();
        settings.target = target;
        settings.hostHeader = hostHeader;
        settings.keyPath = QStringLiteral("unused.pem");
        auto key = crypto::KeyPair::generate();
        if (!key)
            return {};
        auto tunnel = std::make_unique<TunnelClient>(settings, std::move(*key));
        tunnel->start();
        if (!QTest::qWaitFor([&] { return proxy.all<protocol::RegistrationRequest>().size() == 1; }))
            return {};
        proxy.accept();
        if (!QTest::qWaitFor([&] { return tunnel->state() == ClientState::Online; }))
            return {};
        return tunnel;
    }

    static void visit(FakeProxy &proxy, const QByteArray &id)
    {
        protocol::HttpRequest request;
        request.id = id;
        request.method = "GET";
        request.path = "/";
        request.headers = {{"Host", "label.tunnel.test"}};
        proxy.send(request);
    }

    static quint16 refusedPort()
    {
        QTcpServer server;
        if (!server.listen(QHostAddress::LocalHost, 0))
            return 0;
        const quint16 port = server.serverPort();
        server.close();
        return port;
    }

private Q_SLOTS:
    void initTestCase() { qRegisterMetaType<ClientState>(); }

    void serviceDownThenUp()
    {
        const quint16 port = refusedPort();
        QVERIFY(port != 0);
        FakeProxy proxy;
        auto tunnel = onlineClient(proxy, QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        QVERIFY(tunnel);
        QSignalSpy changed(tunnel.get(), &TunnelClient::localServiceChanged);
        QVERIFY(tunnel->localServiceProblem().isEmpty());

        visit(proxy, "r1");
        QTRY_COMPARE(changed.size(), 1);
        const QString problem = changed.first().first().toString();
        QVERIFY2(problem.contains(QStringLiteral("refused")), qPrintable(problem));
        QVERIFY2(problem.contains(QStringLiteral("127.0.0.1:%1").arg(port)), qPrintable(problem));
        QCOMPARE(tunnel->localServiceProblem(), problem);
        QCOMPARE(tunnel->state(), ClientState::Online); // the proxy path is fine

        visit(proxy, "r2"); // still down: no second report
        QTRY_COMPARE(proxy.all<protocol::HttpResponse>().size(), 2);
        QCOMPARE(changed.size(), 1);

        CannedHttpService service("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok", nullptr, port);
        QVERIFY(service.isListening());
        visit(proxy, "r3");
        QTRY_COMPARE(changed.size(), 2);
        QVERIFY(changed.last().first().toString().isEmpty());
        QVERIFY(tunnel->localServiceProblem().isEmpty());
        // The change is told when the service's answer arrives, before that answer reaches the proxy.
        QTRY_COMPARE(proxy.all<protocol::HttpResponse>().size(), 3);
        QCOMPARE(proxy.all<protocol::HttpResponse>().last().status, 200);
    }

    void hostRefusalIsReportedOnce_data()
    {
        QTest::addColumn<QString>("hostHeader");
        QTest::addColumn<int>("reports");
        QTest::newRow("host kept") << QString() << 1;
        QTest::newRow("host rewritten") << QStringLiteral("rewrite") << 0;
    }

    void hostRefusalIsReportedOnce()
    {
        QFETCH(QString, hostHeader);
        QFETCH(int, reports);
        const QByteArray body = "Blocked request. This host (\"label.tunnel.test\") is not allowed.";
        CannedHttpService vite("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: "
                               + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(vite.isListening());
        FakeProxy proxy;
        auto tunnel = onlineClient(proxy, vite.url(), hostHeader);
        QVERIFY(tunnel);
        QSignalSpy refused(tunnel.get(), &TunnelClient::localHostRefused);
        QSignalSpy finished(tunnel.get(), &TunnelClient::requestFinished);
        visit(proxy, "r1");
        visit(proxy, "r2");
        visit(proxy, "r3");
        QTRY_COMPARE(finished.size(), 3);
        QCOMPARE(refused.size(), reports);
        if (reports) {
            const QString description = refused.first().first().toString();
            QVERIFY2(description.contains(QStringLiteral("Blocked request")), qPrintable(description));
        }
        // Answering with a refusal is still answering.
        QVERIFY(tunnel->localServiceProblem().isEmpty());
    }
};

QTEST_MAIN(TestLocalServiceState)
#include "TestLocalServiceState.moc"
