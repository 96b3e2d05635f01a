#include "http/HttpParser.h"
#include "websocket/Handshake.h"
#include "websocket/Masking.h"
#include "websocket/WebSocketChannel.h"
#include "websocket/WebSocketConnector.h"

#include <QElapsedTimer>
#include <QPointer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>
#include <QWebSocket>
#include <QWebSocketServer>

using namespace keyhole;
using namespace keyhole::websocket;

namespace {

QByteArray randomBytes(qsizetype n)
{
    QByteArray b(n, Qt::Uninitialized);
    QRandomGenerator::global()->fillRange(reinterpret_cast<quint32 *>(b.data()), n / 4);
    for (qsizetype i = n / 4 * 4; i < n; ++i)
        b[i] = char(i);
    return b;
}

const QList<qsizetype> kSizes = {0, 1, 125, 126, 4000, 65535, 65536, 100 * 1024, 1024 * 1024};

// Our server side: reads the upgrade request, answers it and wraps the socket in a server channel.
class OurServer : public QObject
{
public:
    OurServer()
    {
        QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *socket = m_server.nextPendingConnection())
                handshakeWith(socket);
        });
    }
    quint16 port() const { return m_server.serverPort(); }

    QList<QPointer<WebSocketChannel>> channels;
    qint64 maxMessageBytes = WebSocketChannel::kDefaultMaxIncomingMessageBytes;
    bool echo = true;

private:
    void handshakeWith(QTcpSocket *socket)
    {
        auto parser = std::make_shared<http::HttpParser>(http::HttpParser::Mode::Request, http::HttpParser::Limits());
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, parser] {
            const QByteArray bytes = socket->readAll();
            qsizetype consumed = 0;
            const auto status = parser->feed(bytes.constData(), bytes.size(), &consumed);
            if (status == http::HttpParser::Status::NeedMore)
                return;
            socket->disconnect(this);
            const auto answer = handshake::answerClientRequest(parser->requestHead());
            socket->write(answer.bytes);
            if (answer.status != 101) {
                socket->disconnectFromHost();
                return;
            }
            auto *channel = new WebSocketChannel(socket, Role::Server, bytes.mid(consumed), this);
            channel->setMaxIncomingMessageBytes(maxMessageBytes);
            if (echo) {
                connect(channel, &WebSocketChannel::binaryMessageReceived, channel,
                        [channel](const QByteArray &m) { channel->sendBinaryMessage(m); });
            }
            channels.append(channel);
        });
    }

    QTcpServer m_server;
};

// Dials with our connector and waits for the channel.
WebSocketChannel *dial(const QUrl &url, QObject *owner, QString *error = nullptr, int timeoutMs = 5000)
{
    WebSocketConnector::Options options;
    options.url = url;
    options.userAgent = "keyhole-test";
    options.timeoutMs = timeoutMs;
    auto *connector = new WebSocketConnector(options, owner);
    WebSocketChannel *channel = nullptr;
    QString failure;
    bool done = false;
    QObject::connect(connector, &WebSocketConnector::succeeded, owner, [&](WebSocketChannel *c) {
        channel = c;
        done = true;
    });
    QObject::connect(connector, &WebSocketConnector::failed, owner, [&](const QString &why) {
        failure = why;
        done = true;
    });
    connector->open();
    if (!QTest::qWaitFor([&] { return done; }, timeoutMs + 5000))
        failure = QStringLiteral("test: no outcome");
    connector->deleteLater();
    if (error)
        *error = failure;
    return channel;
}

// A TCP server that answers every connection with fixed bytes (a broken or hostile WebSocket server).
class CannedServer : public QObject
{
public:
    explicit CannedServer(QByteArray answer)
    {
        QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
        connect(&m_server, &QTcpServer::newConnection, this, [this, answer] {
            while (QTcpSocket *socket = m_server.nextPendingConnection()) {
                sockets.append(socket);
                connect(socket, &QTcpSocket::readyRead, socket, [socket, answer, this] {
                    received += socket->readAll();
                    if (received.contains("\r\n\r\n") && !answer.isEmpty())
                        socket->write(answer);
                });
            }
        });
    }
    QUrl url() const { return QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/subscribe").arg(m_server.serverPort())); }
    QByteArray received;
    QList<QTcpSocket *> sockets;

private:
    QTcpServer m_server;
};

QByteArray acceptFor(const QByteArray &request)
{
    const qsizetype at = request.indexOf("Sec-WebSocket-Key: ") + 19;
    return handshake::acceptFor(request.mid(at, request.indexOf("\r\n", at) - at));
}

} // namespace

class TestWebSocketChannel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testOurClientAgainstQWebSocketServer();
    void testQWebSocketClientAgainstOurServer();
    void testCloseCodesBothWays();
    void testFramesRightAfterThe101AreNotLost();
    void testConnectorRefusals_data();
    void testConnectorRefusals();
    void testConnectorTimesOut();
    void testServerClosesOversizedMessageWith1009();
    void testUnmaskedClientFrameIs1002();
    void testCloseTimesOutAndAborts();
    void testOutgoingBound();
    void testPeerThatTakesNothingIsCutAfterTheSendTimeout();
    void testPausedChannelReadsNothingUntilResumed();
    void testServerStopsReadingWhileItsOutputIsBackedUp();
    void testMessagePartsArriveAsOneMessage_data();
    void testMessagePartsArriveAsOneMessage();
};

void TestWebSocketChannel::testOurClientAgainstQWebSocketServer()
{
    QWebSocketServer server(QStringLiteral("qt"), QWebSocketServer::NonSecureMode);
    server.setMaxPendingConnections(10);
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    QPointer<QWebSocket> peer;
    QList<QByteArray> pongsAtServer;
    connect(&server, &QWebSocketServer::newConnection, this, [&] {
        peer = server.nextPendingConnection();
        peer->setParent(&server);
        connect(peer, &QWebSocket::binaryMessageReceived, peer,
                [&](const QByteArray &m) { peer->sendBinaryMessage(m); });
        connect(peer, &QWebSocket::pong, peer, [&](quint64, const QByteArray &payload) { pongsAtServer << payload; });
    });

    QString error;
    std::unique_ptr<WebSocketChannel> channel(
        dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/subscribe?v=1").arg(server.serverPort())), this, &error));
    QVERIFY2(channel, qPrintable(error));
    QTRY_VERIFY(peer);
    QCOMPARE(peer->requestUrl().path(), QStringLiteral("/proxy/subscribe"));
    QCOMPARE(peer->request().rawHeader("User-Agent"), QByteArray("keyhole-test"));

    QList<QByteArray> echoes;
    connect(channel.get(), &WebSocketChannel::binaryMessageReceived, this, [&](const QByteArray &m) { echoes << m; });
    QList<QByteArray> sent;
    for (qsizetype size : kSizes) {
        sent << randomBytes(size);
        QVERIFY(channel->sendBinaryMessage(sent.last()));
    }
    QTRY_COMPARE_WITH_TIMEOUT(echoes.size(), sent.size(), 10000);
    QCOMPARE(echoes, sent);

    // One at a time, so the socket has released each large frame before the next reuses its buffer.
    for (qsizetype size : {70000, 5000, 70000, 200000}) {
        sent << randomBytes(size);
        QVERIFY(channel->sendBinaryMessage(sent.last()));
        QTRY_COMPARE(echoes.size(), sent.size());
        QCOMPARE(echoes.last(), sent.last());
    }

    // Pings both ways.
    QSignalSpy pongs(channel.get(), &WebSocketChannel::pong);
    QVERIFY(channel->ping("are you there"));
    QTRY_COMPARE(pongs.size(), 1);
    QCOMPARE(pongs.first().first().toByteArray(), QByteArray("are you there"));
    peer->ping("and you?");
    QTRY_COMPARE(pongsAtServer, QList<QByteArray>{"and you?"});
    QVERIFY(!channel->ping(QByteArray(126, 'x')));
}

void TestWebSocketChannel::testQWebSocketClientAgainstOurServer()
{
    OurServer server;
    QWebSocket client;
    client.setMaxAllowedIncomingMessageSize(4 * 1024 * 1024);
    QList<QByteArray> echoes;
    QList<QByteArray> pongsAtClient;
    connect(&client, &QWebSocket::binaryMessageReceived, this, [&](const QByteArray &m) { echoes << m; });
    connect(&client, &QWebSocket::pong, this, [&](quint64, const QByteArray &p) { pongsAtClient << p; });
    QSignalSpy connected(&client, &QWebSocket::connected);
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/subscribe").arg(server.port())));
    QTRY_COMPARE(connected.size(), 1);
    QTRY_COMPARE(server.channels.size(), 1);
    WebSocketChannel *channel = server.channels.first();
    QSignalSpy texts(channel, &WebSocketChannel::textMessageReceived);
    QSignalSpy pongs(channel, &WebSocketChannel::pong);

    QList<QByteArray> sent;
    for (qsizetype size : kSizes) {
        sent << randomBytes(size);
        client.sendBinaryMessage(sent.last());
    }
    QTRY_COMPARE_WITH_TIMEOUT(echoes.size(), sent.size(), 10000);
    QCOMPARE(echoes, sent);

    client.sendTextMessage(QStringLiteral("grüße"));
    QTRY_COMPARE(texts.size(), 1);
    QCOMPARE(texts.first().first().toString(), QStringLiteral("grüße"));

    client.ping("ping from Qt");
    QTRY_COMPARE(pongsAtClient, QList<QByteArray>{"ping from Qt"});
    QVERIFY(channel->ping("ping from us"));
    QTRY_COMPARE(pongs.size(), 1);
    QCOMPARE(pongs.first().first().toByteArray(), QByteArray("ping from us"));
}

void TestWebSocketChannel::testCloseCodesBothWays()
{
    // Our server closes a QWebSocket client.
    {
        OurServer server;
        QWebSocket client;
        QSignalSpy clientGone(&client, &QWebSocket::disconnected);
        client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.port())));
        QTRY_COMPARE(server.channels.size(), 1);
        // The server answered; the client may still be reading the 101 (it drops what it is sent before).
        QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
        WebSocketChannel *channel = server.channels.first();
        QSignalSpy channelGone(channel, &WebSocketChannel::disconnected);
        channel->close(4001, QStringLiteral("server says bye"));
        QVERIFY(!channel->sendBinaryMessage("too late"));
        QTRY_COMPARE(clientGone.size(), 1);
        QCOMPARE(int(client.closeCode()), 4001);
        QCOMPARE(client.closeReason(), QStringLiteral("server says bye"));
        QTRY_COMPARE(channelGone.size(), 1);
        QCOMPARE(channel->closeCode(), quint16(4001)); // the echo of our code
        QVERIFY(channel->errorString().isEmpty());
    }
    // A QWebSocket client closes our server channel.
    {
        OurServer server;
        QWebSocket client;
        QSignalSpy clientGone(&client, &QWebSocket::disconnected);
        client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.port())));
        QTRY_COMPARE(server.channels.size(), 1);
        // The server answered; the client may still be reading the 101 (it drops what it is sent before).
        QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
        WebSocketChannel *channel = server.channels.first();
        QSignalSpy channelGone(channel, &WebSocketChannel::disconnected);
        client.close(QWebSocketProtocol::CloseCodeGoingAway, QStringLiteral("client leaves"));
        QTRY_COMPARE(channelGone.size(), 1);
        QCOMPARE(channel->closeCode(), quint16(CloseGoingAway));
        QCOMPARE(channel->closeReason(), QStringLiteral("client leaves"));
        QTRY_COMPARE(clientGone.size(), 1);
    }
    // Our client closes, and is closed by, a QWebSocketServer.
    for (const bool clientCloses : {true, false}) {
        QWebSocketServer server(QStringLiteral("qt"), QWebSocketServer::NonSecureMode);
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        QPointer<QWebSocket> peer;
        connect(&server, &QWebSocketServer::newConnection, this, [&] {
            peer = server.nextPendingConnection();
            peer->setParent(&server);
        });
        std::unique_ptr<WebSocketChannel> channel(
            dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.serverPort())), this));
        QVERIFY(channel);
        QTRY_VERIFY(peer);
        QSignalSpy peerGone(peer.data(), &QWebSocket::disconnected);
        QSignalSpy channelGone(channel.get(), &WebSocketChannel::disconnected);
        if (clientCloses) {
            channel->close(4002, QStringLiteral("client done"));
            QTRY_COMPARE(peerGone.size(), 1);
            QCOMPARE(int(peer->closeCode()), 4002);
            QCOMPARE(peer->closeReason(), QStringLiteral("client done"));
        } else {
            peer->close(QWebSocketProtocol::CloseCodePolicyViolated, QStringLiteral("server done"));
            QTRY_COMPARE(channelGone.size(), 1);
            QCOMPARE(channel->closeCode(), quint16(ClosePolicyViolated));
            QCOMPARE(channel->closeReason(), QStringLiteral("server done"));
        }
        QTRY_COMPARE(channelGone.size(), 1);
        QCOMPARE(channel->state(), WebSocketChannel::State::Closed);
    }
}

void TestWebSocketChannel::testFramesRightAfterThe101AreNotLost()
{
    // The 101 and two frames in one write: the connector must hand the frames to the channel.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    connect(&server, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *socket = server.nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [socket] {
            const QByteArray request = socket->readAll();
            socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                          "Sec-WebSocket-Accept: "
                          + acceptFor(request) + "\r\n\r\n" + QByteArray::fromHex("8205") + "first"
                          + QByteArray::fromHex("8206") + "second");
        });
    });
    std::unique_ptr<WebSocketChannel> channel(
        dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.serverPort())), this));
    QVERIFY(channel);
    QSignalSpy messages(channel.get(), &WebSocketChannel::binaryMessageReceived);
    QTRY_COMPARE(messages.size(), 2);
    QCOMPARE(messages[0].first().toByteArray(), QByteArray("first"));
    QCOMPARE(messages[1].first().toByteArray(), QByteArray("second"));
}

void TestWebSocketChannel::testConnectorRefusals_data()
{
    QTest::addColumn<QByteArray>("answer");
    QTest::addColumn<QString>("error");
    QTest::newRow("404") << QByteArray("HTTP/1.1 404 Not Found\r\nContent-Length: 9\r\n\r\nnot found")
                         << "the server refused the WebSocket upgrade: 404 Not Found";
    QTest::newRow("wrong accept") << QByteArray("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n"
                                                "Connection: Upgrade\r\nSec-WebSocket-Accept: nope\r\n\r\n")
                                  << "invalid WebSocket handshake from the server: wrong Sec-WebSocket-Accept";
    QTest::newRow("not HTTP") << QByteArray("SSH-2.0-OpenSSH_9.2\r\n\r\n")
                              << "invalid WebSocket handshake from the server: malformed response: ";
}

void TestWebSocketChannel::testConnectorRefusals()
{
    QFETCH(QByteArray, answer);
    QFETCH(QString, error);
    CannedServer server(answer);
    QString failure;
    QVERIFY(!dial(server.url(), this, &failure));
    QVERIFY2(failure.startsWith(error), qPrintable(failure));
    QVERIFY(server.received.startsWith("GET /proxy/subscribe HTTP/1.1\r\n"));
}

void TestWebSocketChannel::testConnectorTimesOut()
{
    CannedServer silent{QByteArray()};
    QString failure;
    QElapsedTimer timer;
    timer.start();
    QVERIFY(!dial(silent.url(), this, &failure, 300));
    QCOMPARE(failure, QStringLiteral("no WebSocket connection to the server within 0.3 s"));
    QVERIFY(timer.elapsed() < 3000);

    QTcpServer closed; // nothing listens on this port once it is closed
    QVERIFY(closed.listen(QHostAddress::LocalHost, 0));
    const quint16 port = closed.serverPort();
    closed.close();
    QVERIFY(!dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(port)), this, &failure));
    QCOMPARE(failure, QStringLiteral("Connection refused"));
}

void TestWebSocketChannel::testServerClosesOversizedMessageWith1009()
{
    OurServer server;
    server.maxMessageBytes = 1000;
    QWebSocket client;
    QSignalSpy clientGone(&client, &QWebSocket::disconnected);
    client.open(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.port())));
    QTRY_COMPARE(server.channels.size(), 1);
    // The server answered; the client may still be reading the 101 (it drops what it is sent before).
    QTRY_COMPARE(client.state(), QAbstractSocket::ConnectedState);
    client.sendBinaryMessage(QByteArray(1000, 'a'));
    client.sendBinaryMessage(QByteArray(1001, 'b'));
    QTRY_COMPARE(clientGone.size(), 1);
    QCOMPARE(int(client.closeCode()), 1009);
    QTRY_VERIFY(!server.channels.first() || server.channels.first()->state() == WebSocketChannel::State::Closed);
    QVERIFY(server.channels.first()->errorString().contains(QStringLiteral("larger than 1000")));
}

void TestWebSocketChannel::testUnmaskedClientFrameIs1002()
{
    OurServer server;
    QTcpSocket raw;
    raw.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(raw.waitForConnected(5000));
    const QByteArray key = handshake::generateKey();
    raw.write(handshake::clientRequest(QUrl(QStringLiteral("ws://127.0.0.1/")), key, {}));
    QTRY_COMPARE(server.channels.size(), 1);
    QByteArray in;
    QTRY_VERIFY((in += raw.readAll()).contains("\r\n\r\n"));
    raw.write(QByteArray::fromHex("8203") + "abc"); // unmasked: only servers may send that
    const qsizetype headEnd = in.indexOf("\r\n\r\n") + 4;
    QTRY_VERIFY((in += raw.readAll()).size() >= headEnd + 4);
    const QByteArray close = in.mid(headEnd);
    QCOMPARE(uchar(close[0]), uchar(0x88));
    QCOMPARE(uchar(close[2]) << 8 | uchar(close[3]), 1002);
    QTRY_COMPARE(raw.state(), QAbstractSocket::UnconnectedState); // and the server hangs up
}

void TestWebSocketChannel::testCloseTimesOutAndAborts()
{
    // A peer that completes the handshake and then never answers the Close.
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    connect(&server, &QTcpServer::newConnection, this, [&] {
        QTcpSocket *socket = server.nextPendingConnection();
        connect(socket, &QTcpSocket::readyRead, socket, [socket] {
            const QByteArray request = socket->readAll();
            if (request.startsWith("GET"))
                socket->write("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                              "Sec-WebSocket-Accept: "
                              + acceptFor(request) + "\r\n\r\n");
        });
    });
    std::unique_ptr<WebSocketChannel> channel(
        dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.serverPort())), this));
    QVERIFY(channel);
    channel->setCloseTimeout(200);
    QSignalSpy gone(channel.get(), &WebSocketChannel::disconnected);
    channel->close();
    QTRY_COMPARE(gone.size(), 1);
    QCOMPARE(channel->errorString(), QStringLiteral("the closing handshake timed out"));
    QCOMPARE(channel->closeCode(), quint16(CloseAbnormal));
}

void TestWebSocketChannel::testOutgoingBound()
{
    OurServer server;
    server.echo = false;
    QTcpSocket raw; // never reads: what we send piles up
    raw.setReadBufferSize(1);
    raw.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(raw.waitForConnected(5000));
    raw.write(handshake::clientRequest(QUrl(QStringLiteral("ws://127.0.0.1/")), handshake::generateKey(), {}));
    QTRY_COMPARE(server.channels.size(), 1);
    WebSocketChannel *channel = server.channels.first();
    channel->setMaxOutgoingBytes(1024 * 1024);
    const QByteArray chunk(512 * 1024, 'x');
    int accepted = 0;
    while (channel->sendBinaryMessage(chunk) && accepted < 1000)
        ++accepted;
    QVERIFY(accepted < 1000);
    QVERIFY(channel->bytesToWrite() > 1024 * 1024);
    QVERIFY(channel->isOpen()); // refused, not closed: the caller decides
    // What must not be lost still goes out, past the bound.
    const qint64 before = channel->bytesToWrite();
    QVERIFY(channel->sendBinaryMessageEvenIfFull("teardown"));
    QCOMPARE(channel->bytesToWrite(), before + 2 + 8);
}

void TestWebSocketChannel::testPeerThatTakesNothingIsCutAfterTheSendTimeout()
{
    OurServer server;
    server.echo = false;
    QTcpSocket raw; // never reads
    raw.setReadBufferSize(1);
    raw.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(raw.waitForConnected(5000));
    raw.write(handshake::clientRequest(QUrl(QStringLiteral("ws://127.0.0.1/")), handshake::generateKey(), {}));
    QTRY_COMPARE(server.channels.size(), 1);
    QPointer<WebSocketChannel> channel = server.channels.first();
    channel->setSendTimeout(300);
    QSignalSpy disconnected(channel.data(), &WebSocketChannel::disconnected);
    // More than the kernel's buffers take on loopback: some of it stays pending.
    const QByteArray chunk(1024 * 1024, 'x');
    for (int i = 0; i < 48 && channel->sendBinaryMessage(chunk); ++i) {
    }
    QVERIFY(channel->bytesToWrite() > 0);
    QTRY_COMPARE_WITH_TIMEOUT(disconnected.size(), 1, 15000);
    QCOMPARE(channel->errorString(), QStringLiteral("the peer stopped reading"));
}

void TestWebSocketChannel::testPausedChannelReadsNothingUntilResumed()
{
    OurServer server;
    server.echo = false;
    std::unique_ptr<WebSocketChannel> client(dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.port())), this));
    QVERIFY(client);
    QTRY_COMPARE(server.channels.size(), 1);
    WebSocketChannel *channel = server.channels.first();
    QList<QByteArray> received;
    connect(channel, &WebSocketChannel::binaryMessageReceived, this, [&](const QByteArray &m) { received << m; });
    channel->setReadingPaused(true);
    for (int i = 0; i < 3; ++i)
        QVERIFY(client->sendBinaryMessage(QByteArray::number(i)));
    QTest::qWait(300);
    QVERIFY(received.isEmpty());
    channel->setReadingPaused(false);
    QTRY_COMPARE(received, (QList<QByteArray>{"0", "1", "2"}));
}

void TestWebSocketChannel::testServerStopsReadingWhileItsOutputIsBackedUp()
{
    OurServer server;
    server.echo = false;
    QTcpSocket raw; // sends pings, never reads the pongs
    raw.connectToHost(QHostAddress::LocalHost, server.port());
    QVERIFY(raw.waitForConnected(5000));
    raw.write(handshake::clientRequest(QUrl(QStringLiteral("ws://127.0.0.1/")), handshake::generateKey(), {}));
    QTRY_COMPARE(server.channels.size(), 1);
    QTRY_VERIFY(raw.bytesAvailable() > 0);
    raw.readAll(); // the 101
    raw.setReadBufferSize(1);
    WebSocketChannel *channel = server.channels.first();
    channel->setHighWaterMark(64 * 1024);
    QSignalSpy drained(channel, &WebSocketChannel::outputDrained);
    QByteArray ping("\x89\xFD\0\0\0\0", 6); // masked (all-zero key), 125 bytes
    ping.append(125, 'p');
    QByteArray chunk;
    while (chunk.size() < 1024 * 1024)
        chunk.append(ping);
    qint64 taken = 0;
    connect(&raw, &QTcpSocket::bytesWritten, this, [&](qint64 n) { taken += n; });
    // Offer 256 MiB: the server must stop taking them long before, with its own output bounded.
    QElapsedTimer stall;
    stall.start();
    qint64 lastTaken = -1;
    while (taken < (256 << 20) && stall.elapsed() < 1000) {
        if (raw.bytesToWrite() < 256 * 1024)
            raw.write(chunk);
        QTest::qWait(1);
        if (taken != lastTaken) {
            lastTaken = taken;
            stall.restart();
        }
    }
    QVERIFY2(taken < (256 << 20), "the server read every ping");
    QVERIFY(channel->isCongested());
    QVERIFY2(channel->bytesToWrite() < 1024 * 1024,
             qPrintable(QStringLiteral("%1 bytes of pongs queued").arg(channel->bytesToWrite())));
    // Reading the pongs lets the server go on.
    raw.setReadBufferSize(0);
    QTRY_VERIFY_WITH_TIMEOUT(drained.size() > 0, 10000);
}

void TestWebSocketChannel::testMessagePartsArriveAsOneMessage_data()
{
    QTest::addColumn<QList<qsizetype>>("sizes");
    QTest::addColumn<int>("misalign"); // bytes each part starts past an 8-byte boundary

    QTest::newRow("no parts") << QList<qsizetype>{} << 0;
    QTest::newRow("one empty part") << QList<qsizetype>{0} << 0;
    QTest::newRow("odd small parts, stack frame") << QList<qsizetype>{1, 2, 3} << 1;
    QTest::newRow("empty parts between") << QList<qsizetype>{0, 5, 0, 7, 0} << 3;
    QTest::newRow("just under the small-frame size") << QList<qsizetype>{1, 4080, 1} << 5;
    QTest::newRow("across the small-frame size") << QList<qsizetype>{4000, 100, 1} << 7;
    QTest::newRow("odd head, large body, odd tail") << QList<qsizetype>{3, 4097, 5} << 1;
    QTest::newRow("exactly the split size") << QList<qsizetype>{4096} << 0;
    QTest::newRow("100 KiB body between odd parts") << QList<qsizetype>{7, 100 * 1024 + 3, 1} << 3;
    QTest::newRow("two large parts") << QList<qsizetype>{65537, 65535} << 2;
}

// A message in parts is one frame whose payload is the parts joined: each part is masked on from
// where the one before it stopped, whatever its length and alignment.
void TestWebSocketChannel::testMessagePartsArriveAsOneMessage()
{
    QFETCH(QList<qsizetype>, sizes);
    QFETCH(int, misalign);

    OurServer server;
    server.echo = false;
    std::unique_ptr<WebSocketChannel> client(dial(QUrl(QStringLiteral("ws://127.0.0.1:%1/").arg(server.port())), this));
    QVERIFY(client);
    QTRY_COMPARE(server.channels.size(), 1);
    WebSocketChannel *channel = server.channels.first();

    // The parts point into one buffer at odd offsets; it outlives the sends (raw data is not copied).
    qsizetype total = 0;
    for (qsizetype size : sizes)
        total += size;
    const QByteArray backing = randomBytes(total + 8 * (sizes.size() + 1));
    MessageParts parts;
    QByteArray expected;
    qsizetype at = 0;
    for (qsizetype size : sizes) {
        at = (at + 7) / 8 * 8 + misalign;
        parts.append(QByteArray::fromRawData(backing.constData() + at, size));
        expected += parts.last();
        at += size;
    }

    QList<QByteArray> atServer;
    connect(channel, &WebSocketChannel::binaryMessageReceived, this, [&](const QByteArray &m) { atServer << m; });
    QList<QByteArray> atClient;
    connect(client.get(), &WebSocketChannel::binaryMessageReceived, this, [&](const QByteArray &m) { atClient << m; });

    QVERIFY(client->sendBinaryMessageParts(parts)); // client role: masked
    QTRY_COMPARE(atServer.size(), 1);
    QCOMPARE(atServer.first().size(), expected.size());
    QVERIFY(atServer.first() == expected);

    QVERIFY(channel->sendBinaryMessagePartsEvenIfFull(parts)); // server role: as they are
    QTRY_COMPARE(atClient.size(), 1);
    QCOMPARE(atClient.first().size(), expected.size());
    QVERIFY(atClient.first() == expected);
}

QTEST_GUILESS_MAIN(TestWebSocketChannel)
#include "TestWebSocketChannel.moc"
