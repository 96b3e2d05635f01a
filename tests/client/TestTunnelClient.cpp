#include "CannedHttpService.h"
#include "FakeProxy.h"
#include "LocalForwarder.h"
#include "LocalWebSocketBridge.h"
#include "TunnelClient.h"
#include "crypto/KeyPair.h"
#include "crypto/RegistrationVerifier.h"
#include "protocol/Codec.h"
#include "util/Clock.h"

#include <QPointer>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using namespace keyhole;
using client::ClientState;
using client::TunnelClient;
using keyhole::testing::CannedHttpService;

namespace {

client::ClientSettings settingsFor(const QUrl &proxy, const QUrl &target)
{
    client::ClientSettings settings;
    settings.proxyUrl = proxy;
    settings.target = target;
    settings.keyPath = QStringLiteral("unused.pem");
    return settings;
}

std::unique_ptr<TunnelClient> makeClient(const QUrl &proxy, const QUrl &target = QUrl("http://127.0.0.1:1"))
{
    auto key = crypto::KeyPair::generate();
    auto tunnel = std::make_unique<TunnelClient>(settingsFor(proxy, target), std::move(*key));
    tunnel->setBackoff(client::Backoff(
        20, 100, [] { return 1.0; }, 1));
    return tunnel;
}

} // namespace

class TestTunnelClient : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void init();
    void registersWithAValidToken();
    void answersPingsRequestsAndWebSocketAttempts();
    void routesWebSocketsAndClosesThemWhenTheProxyIsLost();
    void refusalStopsForGood();
    void refusalByGoodbyeStopsForGood();
    void refusalWorthRetryingIsRetried_data();
    void refusalWorthRetryingIsRetried();
    void finalRefusalCodes_data();
    void finalRefusalCodes();
    void replacedStopsForGood();
    void shutdownReconnectsWithTheSameKey();
    void malformedFrameReconnects();
    void silentProxyTripsTheWatchdog();
    void lostConnectionReconnects();
    void stopSaysGoodbye();
    void proxyOfAnotherVersionIsRefused();
    void bodiesStreamThroughTheControlChannel();
};

void TestTunnelClient::initTestCase()
{
    qRegisterMetaType<ClientState>();
}

void TestTunnelClient::init()
{
    // The fake proxy speaks the protocol correctly except where a test says otherwise (ignoreMessage).
    QTest::failOnWarning(QRegularExpression(QStringLiteral("protocol error from the proxy|ignoring unexpected")));
}

void TestTunnelClient::registersWithAValidToken()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy registered(tunnel.get(), &TunnelClient::registered);
    tunnel->start();
    QCOMPARE(tunnel->state(), ClientState::Connecting);
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    QCOMPARE(tunnel->state(), ClientState::Registering);
    QCOMPARE(proxy.paths, QStringList{QStringLiteral("/proxy/subscribe")});

    crypto::RegistrationVerifier verifier(proxy.url().toString(), util::Clock::system());
    const auto result = verifier.verify(proxy.all<protocol::RegistrationRequest>().first().token);
    QVERIFY2(result.accepted(), qPrintable(result.error));
    QCOMPARE(result.label, tunnel->label());

    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    QCOMPARE(registered.size(), 1);
    const auto info = registered.first().first().value<client::TunnelInfo>();
    QCOMPARE(info.publicUrl, QStringLiteral("http://label.tunnel.test"));
    QCOMPARE(info.hostname, QStringLiteral("label.tunnel.test"));
    QVERIFY(info.label.isEmpty()); // as the proxy said
    QCOMPARE(info.maxResponseBodyBytes, qint64(1000));
    QCOMPARE(tunnel->tunnelInfo().maxRequestBodyBytes, qint64(1000));
    QCOMPARE(tunnel->forwarder()->options().maxResponseBodyBytes, qint64(1000));
    QCOMPARE(tunnel->forwarder()->options().timeoutMs, 28000);
}

void TestTunnelClient::answersPingsRequestsAndWebSocketAttempts()
{
    FakeProxy proxy;
    CannedHttpService service("HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 2\r\n\r\nhi");
    QVERIFY(service.isListening());
    auto tunnel = makeClient(proxy.url(), service.url());
    QSignalSpy finished(tunnel.get(), &TunnelClient::requestFinished);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);

    proxy.send(protocol::Ping{0xfeedbeefULL});
    QTRY_COMPARE(proxy.all<protocol::Pong>().size(), 1);
    QCOMPARE(proxy.all<protocol::Pong>().first().nonce, quint64(0xfeedbeefULL));

    protocol::HttpRequest request;
    request.id = "req-7";
    request.method = "GET";
    request.path = "/hello";
    request.headers = {{"Host", "label.tunnel.test"}};
    proxy.send(request);
    QTRY_COMPARE(proxy.all<protocol::HttpResponse>().size(), 1);
    const protocol::HttpResponse response = proxy.all<protocol::HttpResponse>().first();
    QCOMPARE(response.id, QByteArray("req-7"));
    QCOMPARE(response.status, 200);
    QCOMPARE(response.body, QByteArray("hi"));
    QTRY_COMPARE(finished.size(), 1);
    const auto record = finished.first().first().value<client::RequestRecord>();
    QCOMPARE(record.path, QByteArray("/hello"));
    QCOMPARE(record.status, 200);

    protocol::WsRequest ws;
    ws.id = "ws-1";
    ws.path = "/socket";
    proxy.send(ws);
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    const protocol::WsResponse wsResponse = proxy.all<protocol::WsResponse>().first();
    QCOMPARE(wsResponse.id, QByteArray("ws-1"));
    QVERIFY(!wsResponse.accepted);
    // The canned service answers 200 instead of upgrading: that is a bad gateway, not a refusal.
    QCOMPARE(wsResponse.status, 502);
    QCOMPARE(tunnel->state(), ClientState::Online);
}

void TestTunnelClient::routesWebSocketsAndClosesThemWhenTheProxyIsLost()
{
    FakeProxy proxy;
    QWebSocketServer service(QStringLiteral("echo"), QWebSocketServer::NonSecureMode);
    QVERIFY(service.listen(QHostAddress::LocalHost, 0));
    QList<QWebSocket *> localSockets;
    QList<int> localCloseCodes;
    connect(&service, &QWebSocketServer::newConnection, this, [&] {
        while (QWebSocket *socket = service.nextPendingConnection()) {
            socket->setParent(&service);
            localSockets.append(socket);
            connect(socket, &QWebSocket::textMessageReceived, socket,
                    [socket](const QString &text) { socket->sendTextMessage(text.toUpper()); });
            connect(socket, &QWebSocket::disconnected, socket,
                    [&localCloseCodes, socket] { localCloseCodes.append(socket->closeCode()); });
        }
    });
    auto tunnel = makeClient(proxy.url(), QUrl(QStringLiteral("http://127.0.0.1:%1").arg(service.serverPort())));
    QSignalSpy activity(tunnel.get(), &TunnelClient::webSocketActivity);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    QCOMPARE(tunnel->webSockets()->options().maxMessageBytes, qint64(1000));
    QCOMPARE(tunnel->webSockets()->options().handshakeTimeoutMs, 28000);

    protocol::WsRequest ws;
    ws.id = "ws-9";
    ws.path = "/live";
    proxy.send(ws);
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    QVERIFY(proxy.all<protocol::WsResponse>().first().accepted);
    proxy.send(protocol::WsMessage{"ws-9", false, "hello"});
    QTRY_COMPARE(proxy.all<protocol::WsMessage>().size(), 1);
    QCOMPARE(proxy.all<protocol::WsMessage>().first().payload, QByteArray("HELLO"));
    QCOMPARE(proxy.all<protocol::WsMessage>().first().binary, false);

    // The local service closes: the proxy hears the code.
    QVERIFY(!localSockets.isEmpty());
    localSockets.first()->close(static_cast<QWebSocketProtocol::CloseCode>(4000), QStringLiteral("done"));
    QTRY_COMPARE(proxy.all<protocol::WsTeardown>().size(), 1);
    QCOMPARE(proxy.all<protocol::WsTeardown>().first().code, 4000);
    QCOMPARE(proxy.all<protocol::WsTeardown>().first().reason, QStringLiteral("done"));

    // A second WebSocket goes away with the control connection.
    ws.id = "ws-10";
    proxy.send(ws);
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 2);
    QTRY_COMPARE(localSockets.size(), 2);
    proxy.current->abort();
    QTRY_COMPARE(localCloseCodes.size(), 2);
    QCOMPARE(localCloseCodes.last(), 1001);
    QCOMPARE(tunnel->webSockets()->count(), 0);

    QVERIFY(!activity.isEmpty());
    const auto first = activity.first().first().value<client::RequestRecord>();
    QCOMPARE(first.wsEvent, client::RequestRecord::WsEvent::Opened);
    QCOMPARE(first.path, QByteArray("/live"));
    QTRY_COMPARE(activity.size(), 4); // open, closed, open, closed
    const auto closed = activity.at(1).first().value<client::RequestRecord>();
    QCOMPARE(closed.wsEvent, client::RequestRecord::WsEvent::Closed);
    QCOMPARE(closed.closeCode, 4000);
    QCOMPARE(closed.bytesIn, 5);
    QCOMPARE(closed.bytesOut, 5);
}

void TestTunnelClient::refusalStopsForGood()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy refused(tunnel.get(), &TunnelClient::refused);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    protocol::RegistrationResponse response;
    response.accepted = false;
    response.reason = QStringLiteral("this key is not authorized");
    response.code = protocol::Goodbye::CodeUnauthorized;
    proxy.send(response);
    QTRY_COMPARE(refused.size(), 1);
    QCOMPARE(refused.first().at(0).toString(), QStringLiteral("this key is not authorized"));
    QCOMPARE(refused.first().at(1).toByteArray(), QByteArray("unauthorized"));
    QCOMPARE(tunnel->state(), ClientState::Refused);
    QTRY_COMPARE(proxy.disconnects, 1);
    QVERIFY(!tunnel->nextRetryTime().isValid());
    QCOMPARE(proxy.connections, 1);
}

void TestTunnelClient::refusalByGoodbyeStopsForGood()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy refused(tunnel.get(), &TunnelClient::refused);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.send(protocol::Goodbye{protocol::Goodbye::CodeClockSkew, QStringLiteral("your clock is 5 minutes off")});
    QTRY_COMPARE(refused.size(), 1);
    QCOMPARE(tunnel->state(), ClientState::Refused);
}

void TestTunnelClient::refusalWorthRetryingIsRetried_data()
{
    QTest::addColumn<QByteArray>("code");
    QTest::addColumn<bool>("retry");
    QTest::newRow("busy, marked") << QByteArray(protocol::Goodbye::CodeBusy) << true;
    // A code of the future, marked as worth retrying by the proxy.
    QTest::newRow("unknown code, marked") << QByteArray("overloaded") << true;
    // Unmarked, but the code never concerns the key or token.
    QTest::newRow("busy, unmarked") << QByteArray(protocol::Goodbye::CodeBusy) << false;
}

void TestTunnelClient::refusalWorthRetryingIsRetried()
{
    QFETCH(QByteArray, code);
    QFETCH(bool, retry);
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy refused(tunnel.get(), &TunnelClient::refused);
    QSignalSpy retryAt(tunnel.get(), &TunnelClient::nextRetryAt);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    protocol::RegistrationResponse busy;
    busy.reason = QStringLiteral("too many registrations; try again shortly");
    busy.code = code;
    busy.retry = retry;
    proxy.send(busy);
    QTRY_COMPARE(tunnel->state(), ClientState::WaitingToReconnect);
    QCOMPARE(retryAt.size(), 1);
    // Back with a fresh token (a new jti) after the backoff, and online once the proxy has room.
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 2);
    QCOMPARE(proxy.connections, 2);
    const auto requests = proxy.all<protocol::RegistrationRequest>();
    QVERIFY(requests.at(0).token != requests.at(1).token);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    QCOMPARE(refused.size(), 0);
}

void TestTunnelClient::finalRefusalCodes_data()
{
    QTest::addColumn<QByteArray>("code");
    QTest::newRow("unauthorized") << QByteArray(protocol::Goodbye::CodeUnauthorized);
    QTest::newRow("bad-token") << QByteArray(protocol::Goodbye::CodeBadToken);
    QTest::newRow("clock-skew") << QByteArray(protocol::Goodbye::CodeClockSkew);
    QTest::newRow("no code") << QByteArray();
}

void TestTunnelClient::finalRefusalCodes()
{
    QFETCH(QByteArray, code);
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy refused(tunnel.get(), &TunnelClient::refused);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    protocol::RegistrationResponse response;
    response.reason = QStringLiteral("no");
    response.code = code;
    proxy.send(response);
    QTRY_COMPARE(refused.size(), 1);
    QCOMPARE(tunnel->state(), ClientState::Refused);
    QVERIFY(!tunnel->nextRetryTime().isValid());
    QCOMPARE(proxy.connections, 1);
}

void TestTunnelClient::replacedStopsForGood()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    proxy.send(protocol::Goodbye{protocol::Goodbye::CodeReplaced, QStringLiteral("another client")});
    QTRY_COMPARE(tunnel->state(), ClientState::Replaced);
    QTRY_COMPARE(proxy.disconnects, 1);
    QVERIFY(!tunnel->nextRetryTime().isValid());
    QCOMPARE(proxy.connections, 1);
}

void TestTunnelClient::shutdownReconnectsWithTheSameKey()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy registered(tunnel.get(), &TunnelClient::registered);
    QSignalSpy retry(tunnel.get(), &TunnelClient::nextRetryAt);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(registered.size(), 1);
    proxy.send(protocol::Goodbye{protocol::Goodbye::CodeShutdown, QStringLiteral("maintenance")});
    QTRY_COMPARE(retry.size(), 1);
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 2);
    QCOMPARE(proxy.connections, 2);
    proxy.accept();
    QTRY_COMPARE(registered.size(), 2);
    QCOMPARE(tunnel->state(), ClientState::Online);

    crypto::RegistrationVerifier verifier(proxy.url().toString(), util::Clock::system());
    const auto tokens = proxy.all<protocol::RegistrationRequest>();
    const auto first = verifier.verify(tokens.at(0).token);
    const auto second = verifier.verify(tokens.at(1).token);
    QVERIFY(first.accepted() && second.accepted());
    QCOMPARE(first.label, second.label);
}

void TestTunnelClient::malformedFrameReconnects()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    QTest::ignoreMessage(QtWarningMsg, QRegularExpression(QStringLiteral("protocol error from the proxy")));
    proxy.sendRaw(QByteArray("\xff\x00garbage", 9));
    QTRY_COMPARE(proxy.all<protocol::Goodbye>().size(), 1);
    QCOMPARE(proxy.all<protocol::Goodbye>().first().code, QByteArray("protocol-error"));
    QTRY_COMPARE(proxy.connections, 2);
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 2);
}

void TestTunnelClient::silentProxyTripsTheWatchdog()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    tunnel->setWatchdogInterval(300);
    QSignalSpy errors(tunnel.get(), &TunnelClient::errorOccurred);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    // Say nothing more: the client must give up on this connection and come back.
    QTRY_COMPARE(proxy.connections, 2);
    QVERIFY(!errors.isEmpty());
    QVERIFY(errors.first().first().toString().contains(QLatin1String("nothing heard")));
}

void TestTunnelClient::lostConnectionReconnects()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy states(tunnel.get(), &TunnelClient::stateChanged);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    proxy.current->abort();
    QTRY_COMPARE(proxy.connections, 2);
    QTRY_COMPARE(tunnel->state(), ClientState::Registering);
    bool waited = false;
    for (const auto &args : states)
        waited = waited || args.first().value<ClientState>() == ClientState::WaitingToReconnect;
    QVERIFY(waited);
}

void TestTunnelClient::stopSaysGoodbye()
{
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy stopped(tunnel.get(), &TunnelClient::stopped);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);
    tunnel->stop();
    QCOMPARE(tunnel->state(), ClientState::Offline);
    QTRY_COMPARE(proxy.all<protocol::Goodbye>().size(), 1);
    QCOMPARE(proxy.all<protocol::Goodbye>().first().code, QByteArray("client-exit"));
    QTRY_COMPARE(stopped.size(), 1);
    QTRY_COMPARE(proxy.disconnects, 1);
    QCOMPARE(proxy.connections, 1);
}

void TestTunnelClient::proxyOfAnotherVersionIsRefused()
{
    // A protocol 1 proxy refuses this client in its own version's words; the client says who must
    // update, naming both versions, and does not come back.
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url());
    QSignalSpy refused(tunnel.get(), &TunnelClient::refused);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    const protocol::Goodbye goodbye{protocol::Goodbye::CodeVersion,
                                    QStringLiteral("unsupported protocol version 2 (expected 1)")};
    proxy.sendRaw(protocol::Codec::encode(goodbye, 1));
    QTRY_COMPARE(refused.size(), 1);
    QCOMPARE(tunnel->state(), ClientState::Refused);
    const QString reason = refused.first().at(0).toString();
    QVERIFY2(reason.contains(QStringLiteral("protocol 1")) && reason.contains(QStringLiteral("speaks 2")),
             qPrintable(reason));
    QCOMPARE(refused.first().at(1).toByteArray(), QByteArray(protocol::Goodbye::CodeVersion));
    QTRY_COMPARE(proxy.disconnects, 1);
    QCOMPARE(proxy.connections, 1);
}

void TestTunnelClient::bodiesStreamThroughTheControlChannel()
{
    QTcpServer service;
    QVERIFY(service.listen(QHostAddress::LocalHost, 0));
    QPointer<QTcpSocket> local;
    QByteArray received;
    bool localClosed = false;
    connect(&service, &QTcpServer::newConnection, this, [&] {
        local = service.nextPendingConnection();
        connect(local, &QTcpSocket::readyRead, this, [&] { received += local->readAll(); });
        connect(local, &QTcpSocket::disconnected, this, [&] { localClosed = true; });
    });
    FakeProxy proxy;
    auto tunnel = makeClient(proxy.url(), QUrl(QStringLiteral("http://127.0.0.1:%1").arg(service.serverPort())));
    QSignalSpy finished(tunnel.get(), &TunnelClient::requestFinished);
    tunnel->start();
    QTRY_COMPARE(proxy.all<protocol::RegistrationRequest>().size(), 1);
    proxy.accept();
    QTRY_COMPARE(tunnel->state(), ClientState::Online);

    // The request body arrives in pieces and reaches the service as it comes; credit goes back.
    protocol::HttpRequest request;
    request.id = "st-1";
    request.method = "POST";
    request.path = "/events";
    request.headers = {{"Host", "label.tunnel.test"}, {"Content-Length", "10"}};
    request.body = "01234";
    request.streamed = true;
    proxy.send(request);
    QTRY_VERIFY(received.endsWith("\r\n\r\n01234"));
    proxy.send(protocol::HttpBody{"st-1", "56789", true});
    QTRY_VERIFY(received.endsWith("\r\n\r\n0123456789"));
    QTRY_VERIFY(!proxy.all<protocol::HttpCredit>().isEmpty());
    qint64 credited = 0;
    for (const auto &credit : proxy.all<protocol::HttpCredit>())
        credited += credit.bytes;
    QCOMPARE(credited, qint64(10));

    // The answer goes out event by event.
    local->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: a\n\n");
    QTRY_COMPARE(proxy.all<protocol::HttpBody>().size(), 1);
    QVERIFY(proxy.all<protocol::HttpResponse>().first().streamed);
    QCOMPARE(proxy.all<protocol::HttpBody>().first().data, QByteArray("data: a\n\n"));
    proxy.send(protocol::HttpCredit{"st-1", 9});

    // The visitor leaves: the local connection closes at once and nothing more is said about it.
    proxy.send(protocol::HttpCancel{"st-1", QStringLiteral("the visitor left")});
    QTRY_VERIFY_WITH_TIMEOUT(localClosed, 1000);
    QTRY_COMPARE(finished.size(), 1);
    QVERIFY(proxy.all<protocol::HttpCancel>().isEmpty());
    QCOMPARE(tunnel->forwarder()->exchangeCount(), 0);
}

QTEST_GUILESS_MAIN(TestTunnelClient)
#include "TestTunnelClient.moc"
