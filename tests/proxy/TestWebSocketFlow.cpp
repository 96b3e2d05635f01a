// Flow and accounting of visitor WebSockets through a tunnel, in-process: nothing is dropped on the
// way to a congested control channel, a refused upgrade gives its WebSocket slot back, WebSocket
// messages are not requests for the rate limit, and a dev server's page loads twice without a 429.
#include "FakeTunnelClient.h"
#include "InProcessProxy.h"
#include "RawVisitor.h"
#include "crypto/Label.h"
#include "crypto/RegistrationToken.h"
#include "protocol/Codec.h"
#include "util/Clock.h"
#include "websocket/WebSocketChannel.h"
#include "websocket/WebSocketConnector.h"

#include <QElapsedTimer>
#include <QTest>
#include <QWebSocket>

#include <memory>

using namespace keyhole;
using proxy::ProxyConfig;
using proxy::ProxyServer;

namespace {

const QByteArray kUpgradeHeaders = "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                                   "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n";

// A tunnel client over our own WebSocketChannel, which (unlike QWebSocket) can stop reading: a
// client that falls behind, so the proxy's control channel towards it backs up. Accepts every
// WebSocket upgrade and records the messages it is given.
class PausableClient : public QObject
{
    Q_OBJECT

public:
    PausableClient(const QUrl &proxyUrl, QObject *parent = nullptr)
        : QObject(parent)
        , m_key(*crypto::KeyPair::generate())
    {
        websocket::WebSocketConnector::Options options;
        options.url = QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/subscribe").arg(proxyUrl.port()));
        auto *connector = new websocket::WebSocketConnector(options, this);
        connect(connector, &websocket::WebSocketConnector::succeeded, this,
                [this, proxyUrl](websocket::WebSocketChannel *channel) {
                    m_channel = channel;
                    connect(channel, &websocket::WebSocketChannel::binaryMessageReceived, this,
                            &PausableClient::onFrame);
                    send(protocol::RegistrationRequest{crypto::RegistrationToken::create(
                        m_key, proxyUrl.toString(), {}, util::Clock::system()->epochSecs())});
                });
        connector->open();
    }

    void send(const protocol::Message &message) { m_channel->sendBinaryMessage(protocol::Codec::encode(message)); }
    void setReadingPaused(bool paused) { m_channel->setReadingPaused(paused); }
    const crypto::KeyPair &key() const { return m_key; }

    bool online = false;
    QList<QByteArray> messages; // WsMessage payloads, in order
    int teardowns = 0;

private:
    void onFrame(const QByteArray &frame)
    {
        auto decoded = protocol::Codec::decode(frame);
        QVERIFY(decoded);
        const protocol::Message &message = *decoded.message;
        if (const auto *registered = std::get_if<protocol::RegistrationResponse>(&message))
            online = registered->accepted;
        else if (const auto *upgrade = std::get_if<protocol::WsRequest>(&message))
            send(protocol::WsResponse{upgrade->id, true, {}, 0, {}, {}});
        else if (const auto *ws = std::get_if<protocol::WsMessage>(&message))
            messages.append(ws->payload);
        else if (std::holds_alternative<protocol::WsTeardown>(message))
            ++teardowns;
    }

    crypto::KeyPair m_key;
    websocket::WebSocketChannel *m_channel = nullptr;
};

} // namespace

class TestWebSocketFlow : public QObject
{
    Q_OBJECT

private:
    InProcessProxy m_server; // the fixture: its helpers are used under their own names below

    static ProxyConfig baseConfig() { return InProcessProxy::baseConfig(); }
    std::unique_ptr<FakeTunnelClient> startWithClient(const ProxyConfig &config)
    {
        return m_server.startWithClient(config);
    }
    QByteArray hostFor(const crypto::KeyPair &key) const { return m_server.hostFor(key); }
    QUrl wsUrl(const crypto::KeyPair &key) const { return m_server.wsUrl(key, "/ws"); }
    static void acceptWebSockets(FakeTunnelClient *client) { client->acceptWebSockets(); }

private Q_SLOTS:
    void cleanup() { m_server.stop(); }

    void testNothingIsLostTowardsACongestedControlChannel()
    {
        ProxyConfig config = baseConfig();
        config.maxWsMessageBytes = 2 << 20;
        QVERIFY(m_server.start(config));
        PausableClient client(m_server->publicUrl());
        QTRY_VERIFY(client.online);

        QWebSocket visitor;
        visitor.open(QNetworkRequest(wsUrl(client.key())));
        QTRY_COMPARE(visitor.state(), QAbstractSocket::ConnectedState);
        client.setReadingPaused(true);

        // Far more than the control channel's hard bound (64 MiB), towards a client that reads nothing.
        constexpr int kMessages = 96;
        for (int i = 0; i < kMessages; ++i) {
            QByteArray payload(1 << 20, char('a' + i % 26));
            payload.replace(0, 4, QByteArray::number(i).rightJustified(4, '0'));
            visitor.sendBinaryMessage(payload);
        }
        // The proxy stops reading the visitor (TCP holds it back) instead of queueing or dropping.
        QTest::qWait(1500);
        QVERIFY2(visitor.bytesToWrite() > (8 << 20),
                 qPrintable(QStringLiteral("the visitor still has %1 bytes to write").arg(visitor.bytesToWrite())));
        QVERIFY(client.messages.isEmpty());

        client.setReadingPaused(false);
        QTRY_COMPARE_WITH_TIMEOUT(client.messages.size(), kMessages, 60000);
        for (int i = 0; i < kMessages; ++i)
            QCOMPARE(client.messages.at(i).left(4), QByteArray::number(i).rightJustified(4, '0'));
        QCOMPARE(client.teardowns, 0);
        QCOMPARE(visitor.state(), QAbstractSocket::ConnectedState);
    }

    void testRefusedHandshakeGivesTheSlotBack()
    {
        ProxyConfig config = baseConfig();
        config.maxWebSocketsPerTunnel = 1;
        auto client = startWithClient(config);
        QVERIFY(client);
        acceptWebSockets(client.get());
        // A handshake the proxy cannot complete (the key is not 16 bytes): refused, and the tunnel's
        // only WebSocket slot is not taken by it.
        RawVisitor bad(m_server->port());
        bad.write(rawRequest("GET", hostFor(client->key()), "/ws", {},
                             "Upgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Key: c2hvcnQ=\r\n"));
        QVERIFY(bad.readResponse());
        QCOMPARE(bad.head.status, 400);
        // If the service was asked at all, it was told the socket is gone.
        QCOMPARE(client->receivedOf<protocol::WsTeardown>().size(), client->receivedOf<protocol::WsRequest>().size());

        RawVisitor good(m_server->port());
        good.write(rawRequest("GET", hostFor(client->key()), "/ws", {}, kUpgradeHeaders));
        QVERIFY(good.readResponse(10000, true));
        QCOMPARE(good.head.status, 101);
    }

    void testVisitorLeavingBeforeTheAnswerGivesTheSlotBack()
    {
        ProxyConfig config = baseConfig();
        config.maxWebSocketsPerTunnel = 1;
        auto client = startWithClient(config);
        QVERIFY(client);
        {
            RawVisitor leaving(m_server->port());
            leaving.write(rawRequest("GET", hostFor(client->key()), "/ws", {}, kUpgradeHeaders));
            QTRY_VERIFY(!client->receivedOf<protocol::WsRequest>().isEmpty());
            leaving.socket.abort();
        }
        QTRY_COMPARE(client->receivedOf<protocol::WsTeardown>().size(), 1);
        // The service answers late, after the visitor left: the proxy must not count that socket.
        const QByteArray id = client->receivedOf<protocol::WsRequest>().first().id;
        QCOMPARE(client->receivedOf<protocol::WsTeardown>().first().id, id);
        client->send(protocol::WsResponse{id, true, {}, 0, {}, {}});
        acceptWebSockets(client.get());

        RawVisitor next(m_server->port());
        next.write(rawRequest("GET", hostFor(client->key()), "/ws", {}, kUpgradeHeaders));
        QVERIFY(next.readResponse(10000, true));
        QCOMPARE(next.head.status, 101);
    }

    void testWebSocketMessagesAreNotRequests()
    {
        ProxyConfig config = baseConfig();
        config.rateLimitPerSec = 0.001;
        config.rateBurst = 2;
        auto client = startWithClient(config);
        QVERIFY(client);
        acceptWebSockets(client.get());
        QWebSocket visitor;
        visitor.open(QNetworkRequest(wsUrl(client->key()))); // one request
        QTRY_COMPARE(visitor.state(), QAbstractSocket::ConnectedState);
        // A web terminal: many small messages in a burst.
        for (int i = 0; i < 500; ++i)
            visitor.sendTextMessage(QStringLiteral("k%1").arg(i));
        QTRY_COMPARE(client->receivedOf<protocol::WsMessage>().size(), 500);
        QVERIFY(client->receivedOf<protocol::WsTeardown>().isEmpty());
        QCOMPARE(visitor.state(), QAbstractSocket::ConnectedState);
        // The opening was counted: the second request of the burst of two passes, the third does not.
        RawVisitor second(m_server->port());
        second.write(rawRequest("GET", hostFor(client->key()), "/ws", {}, kUpgradeHeaders));
        QVERIFY(second.readResponse(10000, true));
        QCOMPARE(second.head.status, 101);
        RawVisitor third(m_server->port());
        third.write(rawRequest("GET", hostFor(client->key()), "/"));
        QVERIFY(third.readResponse());
        QCOMPARE(third.head.status, 429);
    }

    void testWebSocketByteRateIsLimitedWithoutLoss()
    {
        ProxyConfig config = baseConfig();
        config.wsBytesPerSec = 1 << 20;
        config.maxWsMessageBytes = 1 << 20;
        auto client = startWithClient(config);
        QVERIFY(client);
        acceptWebSockets(client.get());
        QWebSocket visitor;
        visitor.open(QNetworkRequest(wsUrl(client->key())));
        QTRY_COMPARE(visitor.state(), QAbstractSocket::ConnectedState);
        QElapsedTimer timer;
        timer.start();
        // 3 MiB at 1 MiB/s, with the first second's worth at once: two seconds at least.
        for (int i = 0; i < 48; ++i)
            visitor.sendBinaryMessage(QByteArray(64 << 10, 'w'));
        QTRY_COMPARE_WITH_TIMEOUT(client->receivedOf<protocol::WsMessage>().size(), 48, 20000);
        QVERIFY2(timer.elapsed() >= 1500, qPrintable(QStringLiteral("took %1 ms").arg(timer.elapsed())));
        QVERIFY(client->receivedOf<protocol::WsTeardown>().isEmpty());
    }

    void testDevServerPageLoadsTwiceWithoutA429()
    {
        // Defaults: a page of 2,000 modules, loaded twice in a row as fast as a browser asks for
        // them (all at once, here 40 keep-alive connections with 50 requests pipelined on each).
        auto client = startWithClient(baseConfig());
        QVERIFY(client);
        client->answerer = [&client](const protocol::HttpRequest &request) {
            client->send(protocol::HttpResponse{request.id, 200, {}, "export default 1;"});
        };
        constexpr int kConnections = 40;
        constexpr int kModules = 2000;
        std::vector<std::unique_ptr<RawVisitor>> browser;
        for (int i = 0; i < kConnections; ++i)
            browser.push_back(std::make_unique<RawVisitor>(m_server->port()));
        QMap<int, int> statuses;
        QElapsedTimer timer;
        timer.start();
        for (int load = 0; load < 2; ++load) {
            for (int c = 0; c < kConnections; ++c) {
                QByteArray requests;
                for (int m = c; m < kModules; m += kConnections)
                    requests += rawRequest("GET", hostFor(client->key()),
                                           "/src/module" + QByteArray::number(m) + ".js");
                browser[size_t(c)]->write(requests);
            }
            for (int c = 0; c < kConnections; ++c) {
                for (int m = c; m < kModules; m += kConnections) {
                    QVERIFY(browser[size_t(c)]->readResponse());
                    ++statuses[browser[size_t(c)]->head.status];
                }
            }
        }
        qInfo("4000 requests in %lld ms", timer.elapsed());
        QCOMPARE(statuses, (QMap<int, int>{{200, 2 * kModules}}));
    }
};

QTEST_GUILESS_MAIN(TestWebSocketFlow)
#include "TestWebSocketFlow.moc"
