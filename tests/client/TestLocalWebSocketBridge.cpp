#include "LocalWebSocketBridge.h"

#include <QRandomGenerator>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

#include <variant>

using namespace keyhole;
using client::LocalWebSocketBridge;
using client::RequestRecord;

namespace {

constexpr qint64 kMiB = 1024 * 1024;

// The local service: a WebSocket server that echoes every message the way it came.
class EchoService : public QObject
{
public:
    explicit EchoService(const QStringList &subprotocols = {})
        : m_server(QStringLiteral("echo"), QWebSocketServer::NonSecureMode)
    {
        m_server.setSupportedSubprotocols(subprotocols);
        m_server.setMaxPendingConnections(100);
        QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
        connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
            while (QWebSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                socket->setMaxAllowedIncomingMessageSize(64 * kMiB);
                sockets.append(socket);
                connect(socket, &QWebSocket::textMessageReceived, socket,
                        [socket](const QString &text) { socket->sendTextMessage(text); });
                connect(socket, &QWebSocket::binaryMessageReceived, socket,
                        [socket](const QByteArray &data) { socket->sendBinaryMessage(data); });
                connect(socket, &QWebSocket::disconnected, this, [this, socket] {
                    closeCodes.append(socket->closeCode());
                    closeReasons.append(socket->closeReason());
                });
            }
        });
    }

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }

    QList<QWebSocket *> sockets;
    QList<int> closeCodes;
    QStringList closeReasons;

private:
    QWebSocketServer m_server;
};

// A service that reads one handshake and answers with a canned HTTP response (or nothing at all).
class RawService : public QObject
{
public:
    explicit RawService(QByteArray answer)
        : m_answer(std::move(answer))
    {
        QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                socket->setParent(this);
                connect(socket, &QTcpSocket::readyRead, socket, [this, socket] {
                    received += socket->readAll();
                    if (received.contains("\r\n\r\n") && !m_answer.isEmpty()) {
                        socket->write(m_answer);
                        socket->disconnectFromHost();
                    }
                });
            }
        });
    }

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }
    quint16 port() const { return m_server.serverPort(); }

    QByteArray received;

private:
    QTcpServer m_server;
    QByteArray m_answer;
};

using Outgoing = std::variant<protocol::WsResponse, protocol::WsMessage, protocol::WsTeardown>;

// Stands in for TunnelClient: records what the bridge would send to the proxy, in order.
struct Proxy {
    explicit Proxy(LocalWebSocketBridge &bridge)
    {
        QObject::connect(&bridge, &LocalWebSocketBridge::responded, &bridge,
                         [this](const protocol::WsResponse &m) { sent.append(m); });
        QObject::connect(&bridge, &LocalWebSocketBridge::messageForProxy, &bridge,
                         [this](const protocol::WsMessage &m) { sent.append(m); });
        QObject::connect(&bridge, &LocalWebSocketBridge::tornDown, &bridge,
                         [this](const protocol::WsTeardown &m) { sent.append(m); });
        QObject::connect(&bridge, &LocalWebSocketBridge::activity, &bridge,
                         [this](const RequestRecord &r) { records.append(r); });
    }

    template <typename T> QList<T> all() const
    {
        QList<T> out;
        for (const auto &message : sent) {
            if (const auto *m = std::get_if<T>(&message))
                out.append(*m);
        }
        return out;
    }

    QList<Outgoing> sent;
    QList<RequestRecord> records;
};

LocalWebSocketBridge::Options optionsFor(const QUrl &target)
{
    LocalWebSocketBridge::Options options;
    options.target = target;
    options.maxMessageBytes = 4 * kMiB;
    options.handshakeTimeoutMs = 10000;
    return options;
}

protocol::WsRequest wsRequest(const QByteArray &id, const QByteArray &path = "/socket",
                              const protocol::HeaderList &headers = {})
{
    protocol::WsRequest request;
    request.id = id;
    request.path = path;
    request.headers = headers;
    request.remoteAddress = QStringLiteral("203.0.113.9");
    return request;
}

protocol::WsMessage wsMessage(const QByteArray &id, bool binary, const QByteArray &payload)
{
    return protocol::WsMessage{id, binary, payload};
}

QByteArray randomBytes(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = static_cast<char>(QRandomGenerator::global()->bounded(256));
    return bytes;
}

} // namespace

class TestLocalWebSocketBridge : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void acceptsWithSubprotocol_data();
    void acceptsWithSubprotocol();
    void forwardsPathQueryAndHeaders();
    void hostHeaderFollowsTheSetting_data();
    void hostHeaderFollowsTheSetting();
    void refusalPassesStatus_data();
    void refusalPassesStatus();
    void refusedConnectionIs502();
    void silentServiceIs504();
    void invalidHeaderIs400();
    void echoesByteExact_data();
    void echoesByteExact();
    void keepsOrderOfThousandMessages();
    void deliversMessagesQueuedWhileConnecting();
    void queueOverflowWhileConnectingCloses1013();
    void unreadDataCloses1013();
    void oversizeLocalMessageCloses1009();
    void localCloseBecomesTeardown_data();
    void localCloseBecomesTeardown();
    void teardownFromProxyClosesLocal();
    void controlLossClosesEveryLocalSocket1001();
    void unknownIdsAreIgnored();
    void normalizesCloseCodes_data();
    void normalizesCloseCodes();
};

void TestLocalWebSocketBridge::acceptsWithSubprotocol_data()
{
    QTest::addColumn<QStringList>("supported");
    QTest::addColumn<protocol::HeaderList>("headers");
    QTest::addColumn<QByteArray>("chosen");

    QTest::newRow("none offered") << QStringList() << protocol::HeaderList() << QByteArray();
    QTest::newRow("one of a list") << QStringList{QStringLiteral("superchat")}
                                   << protocol::HeaderList{{"Sec-WebSocket-Protocol", "chat, superchat"}}
                                   << QByteArray("superchat");
    QTest::newRow("repeated headers") << QStringList{QStringLiteral("v2.proto")}
                                      << protocol::HeaderList{{"sec-websocket-protocol", "v1.proto"},
                                                              {"Sec-WebSocket-Protocol", " v2.proto ,x"}}
                                      << QByteArray("v2.proto");
    QTest::newRow("none supported") << QStringList() << protocol::HeaderList{{"Sec-WebSocket-Protocol", "chat"}}
                                    << QByteArray();
}

void TestLocalWebSocketBridge::acceptsWithSubprotocol()
{
    QFETCH(QStringList, supported);
    QFETCH(protocol::HeaderList, headers);
    QFETCH(QByteArray, chosen);

    EchoService service(supported);
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-1", "/socket", headers));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    const protocol::WsResponse response = proxy.all<protocol::WsResponse>().first();
    QCOMPARE(response.id, QByteArray("ws-1"));
    QVERIFY2(response.accepted, response.body.constData());
    QCOMPARE(response.subprotocol, chosen);
    QCOMPARE(bridge.count(), 1);

    QCOMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.records.first().kind, RequestRecord::Kind::WebSocket);
    QCOMPARE(proxy.records.first().wsEvent, RequestRecord::WsEvent::Opened);
    QCOMPARE(proxy.records.first().path, QByteArray("/socket"));
    QCOMPARE(proxy.records.first().status, 101);
}

void TestLocalWebSocketBridge::forwardsPathQueryAndHeaders()
{
    RawService service("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    protocol::WsRequest request = wsRequest("ws-h", "/a%2Fb/c%20d",
                                            {{"Host", "label.tunnel.test"},
                                             {"Origin", "https://label.tunnel.test"},
                                             {"Cookie", "a=1"},
                                             {"Cookie", "b=2"},
                                             {"Sec-WebSocket-Protocol", "chat"},
                                             {"Sec-WebSocket-Key", "c3R1ZmY="},
                                             {"X-Forwarded-Host", "label.tunnel.test"}});
    request.query = "x=%2F1&y=a+b";
    bridge.open(request);
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);

    const QByteArray head = service.received;
    QVERIFY2(head.startsWith("GET /a%2Fb/c%20d?x=%2F1&y=a+b HTTP/1.1\r\n"), head.constData());
    // Without --host-header the service sees the visitor's Host, as for plain HTTP.
    QCOMPARE(head.count("\r\nHost: "), 1);
    QVERIFY2(head.contains("\r\nHost: label.tunnel.test\r\n"), head.constData());
    QVERIFY2(head.contains("\r\nOrigin: https://label.tunnel.test\r\n"), head.constData());
    QVERIFY2(head.contains("\r\nCookie: a=1; b=2\r\n"), head.constData());
    QVERIFY2(head.contains("\r\nX-Forwarded-Host: label.tunnel.test\r\n"), head.constData());
    QCOMPARE(head.count("Sec-WebSocket-Protocol: "), 1);
    QVERIFY2(head.contains("\r\nSec-WebSocket-Protocol: chat\r\n"), head.constData());
    QCOMPARE(head.count("Sec-WebSocket-Key: "), 1);
    QVERIFY(!head.contains("c3R1ZmY="));
}

void TestLocalWebSocketBridge::hostHeaderFollowsTheSetting_data()
{
    QTest::addColumn<QString>("mode");
    QTest::addColumn<bool>("visitorSentHost");
    QTest::addColumn<QByteArray>("expected"); // "TARGET": the service's host:port

    QTest::newRow("default keeps the visitor's") << QString() << true << QByteArray("label.tunnel.test");
    QTest::newRow("default without one: the target") << QString() << false << QByteArray("TARGET");
    QTest::newRow("rewrite") << QStringLiteral("rewrite") << true << QByteArray("TARGET");
    QTest::newRow("literal") << QStringLiteral("dev.local:5173") << true << QByteArray("dev.local:5173");
}

void TestLocalWebSocketBridge::hostHeaderFollowsTheSetting()
{
    QFETCH(QString, mode);
    QFETCH(bool, visitorSentHost);
    QFETCH(QByteArray, expected);
    RawService service("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n");
    if (expected == "TARGET")
        expected = "127.0.0.1:" + QByteArray::number(service.port());
    LocalWebSocketBridge::Options options = optionsFor(service.url());
    options.hostHeader = mode;
    LocalWebSocketBridge bridge(options);
    Proxy proxy(bridge);
    protocol::HeaderList headers{{"X-Forwarded-Host", "label.tunnel.test"}};
    if (visitorSentHost)
        headers.prepend({"Host", "label.tunnel.test"});
    bridge.open(wsRequest("ws-host", "/", headers));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    const QByteArray head = service.received;
    QCOMPARE(head.count("\r\nHost: "), 1);
    QVERIFY2(head.contains("\r\nHost: " + expected + "\r\n"), head.constData());
    QVERIFY2(head.contains("\r\nX-Forwarded-Host: label.tunnel.test\r\n"), head.constData());
}

void TestLocalWebSocketBridge::refusalPassesStatus_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<int>("status");

    QTest::newRow("403") << QByteArray("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n") << 403;
    QTest::newRow("401") << QByteArray("HTTP/1.1 401 Unauthorized\r\nContent-Length: 0\r\n\r\n") << 401;
    QTest::newRow("404") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n") << 404;
    // Interim answers are not the answer.
    QTest::newRow("103 then 403") << QByteArray("HTTP/1.1 103 Early Hints\r\nLink: </a.js>\r\n\r\n"
                                                "HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
                                  << 403;
    // A plain answer instead of an upgrade is the service misbehaving, not a refusal to pass on.
    QTest::newRow("200") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nhi") << 502;
}

void TestLocalWebSocketBridge::refusalPassesStatus()
{
    QFETCH(QByteArray, answer);
    QFETCH(int, status);

    RawService service(answer);
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-r"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    const protocol::WsResponse response = proxy.all<protocol::WsResponse>().first();
    QCOMPARE(response.id, QByteArray("ws-r"));
    QVERIFY(!response.accepted);
    QCOMPARE(response.status, status);
    QVERIFY(!response.body.isEmpty());
    QCOMPARE(proxy.sent.size(), 1); // no teardown after a refusal
    QTRY_COMPARE(bridge.count(), 0);
    QCOMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.records.first().wsEvent, RequestRecord::WsEvent::Refused);
    QCOMPARE(proxy.records.first().status, status);
}

void TestLocalWebSocketBridge::refusedConnectionIs502()
{
    QTcpServer probe;
    QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
    const quint16 port = probe.serverPort();
    probe.close();

    LocalWebSocketBridge bridge(optionsFor(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-c"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    const protocol::WsResponse response = proxy.all<protocol::WsResponse>().first();
    QVERIFY(!response.accepted);
    QCOMPARE(response.status, 502);
    QVERIFY2(response.body.contains("127.0.0.1:" + QByteArray::number(port)), response.body.constData());
    QVERIFY2(response.body.contains("refused the connection"), response.body.constData());
    QTRY_COMPARE(bridge.count(), 0);
}

void TestLocalWebSocketBridge::silentServiceIs504()
{
    RawService service{QByteArray()}; // reads the handshake, never answers
    LocalWebSocketBridge::Options options = optionsFor(service.url());
    options.handshakeTimeoutMs = 200;
    LocalWebSocketBridge bridge(options);
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-t"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    const protocol::WsResponse response = proxy.all<protocol::WsResponse>().first();
    QVERIFY(!response.accepted);
    QCOMPARE(response.status, 504);
    QTRY_COMPARE(bridge.count(), 0);
}

void TestLocalWebSocketBridge::invalidHeaderIs400()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-bad", "/socket", {{"X-Evil", "a\r\nInjected: yes"}}));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    QCOMPARE(proxy.all<protocol::WsResponse>().first().status, 400);
    bridge.open(wsRequest("ws-bad2", "/sock et"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 2);
    QCOMPARE(proxy.all<protocol::WsResponse>().at(1).status, 400);
    QTRY_COMPARE(bridge.count(), 0);
    QVERIFY(service.sockets.isEmpty());
}

void TestLocalWebSocketBridge::echoesByteExact_data()
{
    QTest::addColumn<bool>("binary");
    QTest::addColumn<QByteArray>("payload");

    QTest::newRow("text") << false << QByteArray("hello");
    QTest::newRow("empty text") << false << QByteArray();
    QTest::newRow("utf-8 text") << false << QStringLiteral("grüße \U0001F642 ✓").toUtf8();
    QTest::newRow("empty binary") << true << QByteArray();
    QTest::newRow("binary with zeros") << true << QByteArray("\0\x01\xff\0", 4);
    QTest::newRow("1 MiB binary") << true << randomBytes(kMiB);
    QTest::newRow("1 MiB text") << false << QByteArray(kMiB, 'x');
}

void TestLocalWebSocketBridge::echoesByteExact()
{
    QFETCH(bool, binary);
    QFETCH(QByteArray, payload);

    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-e"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    QVERIFY(proxy.all<protocol::WsResponse>().first().accepted);

    bridge.deliver(wsMessage("ws-e", binary, payload));
    QTRY_COMPARE(proxy.all<protocol::WsMessage>().size(), 1);
    const protocol::WsMessage echoed = proxy.all<protocol::WsMessage>().first();
    QCOMPARE(echoed.id, QByteArray("ws-e"));
    QCOMPARE(echoed.binary, binary);
    QCOMPARE(echoed.payload.size(), payload.size());
    QVERIFY(echoed.payload == payload);
}

void TestLocalWebSocketBridge::keepsOrderOfThousandMessages()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-o"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);

    for (int i = 0; i < 1000; ++i)
        bridge.deliver(wsMessage("ws-o", i % 2 == 1, QByteArray::number(i)));
    QTRY_COMPARE(proxy.all<protocol::WsMessage>().size(), 1000);
    const QList<protocol::WsMessage> echoed = proxy.all<protocol::WsMessage>();
    for (int i = 0; i < 1000; ++i) {
        QCOMPARE(echoed.at(i).payload, QByteArray::number(i));
        QCOMPARE(echoed.at(i).binary, i % 2 == 1);
    }

    bridge.teardown({"ws-o", 1000, QString()});
    QTRY_COMPARE(proxy.records.size(), 2);
    const RequestRecord closed = proxy.records.last();
    QCOMPARE(closed.wsEvent, RequestRecord::WsEvent::Closed);
    QCOMPARE(closed.messagesIn, 1000);
    QCOMPARE(closed.messagesOut, 1000);
    QCOMPARE(closed.bytesIn, closed.bytesOut);
    QVERIFY(closed.bytesIn > 1000);
}

void TestLocalWebSocketBridge::deliversMessagesQueuedWhileConnecting()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-q"));
    // The handshake cannot have finished: nothing ran the event loop yet.
    QVERIFY(bridge.socket("ws-q")->isConnecting());
    bridge.deliver(wsMessage("ws-q", false, "first"));
    bridge.deliver(wsMessage("ws-q", true, "second"));
    QTRY_COMPARE(proxy.all<protocol::WsMessage>().size(), 2);
    QVERIFY(std::holds_alternative<protocol::WsResponse>(proxy.sent.first()));
    QVERIFY(std::get<protocol::WsResponse>(proxy.sent.first()).accepted);
    QCOMPARE(proxy.all<protocol::WsMessage>().at(0).payload, QByteArray("first"));
    QCOMPARE(proxy.all<protocol::WsMessage>().at(0).binary, false);
    QCOMPARE(proxy.all<protocol::WsMessage>().at(1).payload, QByteArray("second"));
    QCOMPARE(proxy.all<protocol::WsMessage>().at(1).binary, true);
}

void TestLocalWebSocketBridge::queueOverflowWhileConnectingCloses1013()
{
    RawService service{QByteArray()}; // never finishes the handshake
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-f"));
    const QByteArray chunk(kMiB, 'q');
    for (int i = 0; i < 8; ++i)
        bridge.deliver(wsMessage("ws-f", true, chunk));
    QVERIFY(proxy.sent.isEmpty()); // exactly 8 MiB still fits
    bridge.deliver(wsMessage("ws-f", true, "one byte too many"));
    QCOMPARE(proxy.all<protocol::WsTeardown>().size(), 1);
    QCOMPARE(proxy.all<protocol::WsTeardown>().first().code, 1013);
    QVERIFY(proxy.all<protocol::WsResponse>().isEmpty());
    QTRY_COMPARE(bridge.count(), 0);
}

void TestLocalWebSocketBridge::unreadDataCloses1013()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-b"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    // Without the event loop the service reads nothing: once the kernel's socket buffers are full
    // (what they take goes there directly), the bytes pile up in ours.
    const QByteArray chunk(kMiB, 'b');
    for (int i = 0; i < 64 && proxy.all<protocol::WsTeardown>().isEmpty(); ++i)
        bridge.deliver(wsMessage("ws-b", true, chunk));
    QCOMPARE(proxy.all<protocol::WsTeardown>().size(), 1);
    QCOMPARE(proxy.all<protocol::WsTeardown>().first().code, 1013);
    QTRY_COMPARE(bridge.count(), 0);
    QTRY_COMPARE(service.closeCodes.size(), 1);
}

void TestLocalWebSocketBridge::oversizeLocalMessageCloses1009()
{
    EchoService service;
    LocalWebSocketBridge::Options options = optionsFor(service.url());
    options.maxMessageBytes = 1000;
    LocalWebSocketBridge bridge(options);
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-big"));
    QTRY_COMPARE(service.sockets.size(), 1);
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    service.sockets.first()->sendBinaryMessage(QByteArray(1000, 'k'));
    QTRY_COMPARE(proxy.all<protocol::WsMessage>().size(), 1);
    service.sockets.first()->sendBinaryMessage(QByteArray(1001, 'k'));
    QTRY_COMPARE(proxy.all<protocol::WsTeardown>().size(), 1);
    QCOMPARE(proxy.all<protocol::WsTeardown>().first().code, 1009);
    QCOMPARE(proxy.all<protocol::WsMessage>().size(), 1);
    QTRY_COMPARE(bridge.count(), 0);
}

void TestLocalWebSocketBridge::localCloseBecomesTeardown_data()
{
    QTest::addColumn<bool>("abort");
    QTest::addColumn<int>("code");
    QTest::addColumn<QString>("reason");
    QTest::addColumn<int>("expectedCode");
    QTest::addColumn<QString>("expectedReason");

    QTest::newRow("application code") << false << 4001 << QStringLiteral("bye now") << 4001
                                      << QStringLiteral("bye now");
    QTest::newRow("normal") << false << 1000 << QString() << 1000 << QString();
    QTest::newRow("policy") << false << 1008 << QStringLiteral("no") << 1008 << QStringLiteral("no");
    QTest::newRow("vanished") << true << 0 << QString() << 1001 << QStringLiteral("going away");
}

void TestLocalWebSocketBridge::localCloseBecomesTeardown()
{
    QFETCH(bool, abort);
    QFETCH(int, code);
    QFETCH(QString, reason);
    QFETCH(int, expectedCode);
    QFETCH(QString, expectedReason);

    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-l"));
    QTRY_COMPARE(service.sockets.size(), 1);
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    if (abort)
        service.sockets.first()->abort();
    else
        service.sockets.first()->close(static_cast<QWebSocketProtocol::CloseCode>(code), reason);
    QTRY_COMPARE(proxy.all<protocol::WsTeardown>().size(), 1);
    const protocol::WsTeardown teardown = proxy.all<protocol::WsTeardown>().first();
    QCOMPARE(teardown.id, QByteArray("ws-l"));
    QCOMPARE(teardown.code, expectedCode);
    QCOMPARE(teardown.reason, expectedReason);
    QTRY_COMPARE(bridge.count(), 0);
    QCOMPARE(proxy.records.last().wsEvent, RequestRecord::WsEvent::Closed);
    QCOMPARE(proxy.records.last().closeCode, expectedCode);
}

void TestLocalWebSocketBridge::teardownFromProxyClosesLocal()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-p"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    bridge.teardown({"ws-p", 4002, QStringLiteral("visitor left")});
    QCOMPARE(bridge.count(), 0); // forgotten at once
    QTRY_COMPARE(service.closeCodes.size(), 1);
    QCOMPARE(service.closeCodes.first(), 4002);
    QCOMPARE(service.closeReasons.first(), QStringLiteral("visitor left"));
    // Messages in flight for the id are dropped and nothing goes back.
    bridge.deliver(wsMessage("ws-p", false, "late"));
    QTRY_COMPARE(proxy.records.size(), 2);
    QVERIFY(proxy.all<protocol::WsTeardown>().isEmpty());
    QVERIFY(proxy.all<protocol::WsMessage>().isEmpty());
    QCOMPARE(proxy.records.last().closeCode, 4002);
}

void TestLocalWebSocketBridge::controlLossClosesEveryLocalSocket1001()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.open(wsRequest("ws-1"));
    bridge.open(wsRequest("ws-2"));
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 2);
    QTRY_COMPARE(service.sockets.size(), 2);
    bridge.closeAll();
    QCOMPARE(bridge.count(), 0);
    QTRY_COMPARE(service.closeCodes.size(), 2);
    QCOMPARE(service.closeCodes, (QList<int>{1001, 1001}));
    QVERIFY(proxy.all<protocol::WsTeardown>().isEmpty());
}

void TestLocalWebSocketBridge::unknownIdsAreIgnored()
{
    EchoService service;
    LocalWebSocketBridge bridge(optionsFor(service.url()));
    Proxy proxy(bridge);
    bridge.deliver(wsMessage("nobody", false, "hi"));
    bridge.teardown({"nobody", 1000, QString()});
    bridge.open(wsRequest("ws-d"));
    bridge.open(wsRequest("ws-d")); // a duplicate must not talk over the first
    QTRY_COMPARE(proxy.all<protocol::WsResponse>().size(), 1);
    QVERIFY(proxy.all<protocol::WsResponse>().first().accepted);
    QCOMPARE(bridge.count(), 1);
    QCOMPARE(proxy.sent.size(), 1);
}

void TestLocalWebSocketBridge::normalizesCloseCodes_data()
{
    QTest::addColumn<int>("code");
    QTest::addColumn<int>("expected");
    QTest::newRow("1000") << 1000 << 1000;
    QTest::newRow("1005 no code") << 1005 << 1000;
    QTest::newRow("1006 abnormal") << 1006 << 1001;
    QTest::newRow("1015 tls") << 1015 << 1011;
    QTest::newRow("4999") << 4999 << 4999;
    QTest::newRow("5000") << 5000 << 1000;
    QTest::newRow("999") << 999 << 1000;
    QTest::newRow("1004 reserved") << 1004 << 1000;
    QTest::newRow("2000 unassigned") << 2000 << 1000;
    QTest::newRow("3000") << 3000 << 3000;
}

void TestLocalWebSocketBridge::normalizesCloseCodes()
{
    QFETCH(int, code);
    QFETCH(int, expected);
    QCOMPARE(client::LocalWebSocket::normalizeCloseCode(code), expected);
}

QTEST_GUILESS_MAIN(TestLocalWebSocketBridge)
#include "TestLocalWebSocketBridge.moc"
