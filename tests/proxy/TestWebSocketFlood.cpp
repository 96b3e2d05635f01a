// A real keyhole-proxy process against WebSocket peers that send and never read: every WebSocket
// the proxy holds (a control channel, a visitor's socket through a tunnel) must stay bounded in
// memory, and a peer that takes none of its pending output is cut after --send-timeout.
#include "FakeTunnelClient.h"
#include "ManagedProcess.h"
#include "TestEnvironment.h"
#include "crypto/Label.h"
#include "protocol/Messages.h"

#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QSignalSpy>
#include <QTcpSocket>
#include <QTest>

#include <memory>

using namespace keyhole;
using testing::ManagedProcess;

namespace {

const QRegularExpression kListening(QStringLiteral("^keyhole-proxy listening on \\S*:(\\d+) \\(public URL (\\S+)\\)"));
constexpr int kSendTimeoutSecs = 2;
// Pings offered per test: far more than the proxy may hold on to.
constexpr qint64 kFloodBytes = 160 << 20;
constexpr qint64 kMaxGrowthKiB = 64 * 1024;

// VmRSS or VmHWM (the peak) of a process, in KiB; -1 if unreadable.
qint64 memoryKiB(qint64 pid, const char *field)
{
    QFile status(QStringLiteral("/proc/%1/status").arg(pid));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith(field))
            return line.mid(qstrlen(field) + 1).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}

// Masked Ping frames with 125-byte payloads, 1 MiB of them back to back: each one asks for a Pong.
QByteArray pingChunk()
{
    QByteArray frame;
    frame.append(char(0x89)).append(char(0x80 | 125)).append(4, '\0'); // an all-zero mask: payload as is
    frame.append(125, 'p');
    QByteArray chunk;
    while (chunk.size() + frame.size() <= (1 << 20))
        chunk.append(frame);
    return chunk;
}

// A WebSocket peer that does the handshake, then only writes pings and never reads again.
class PingFlooder
{
public:
    bool open(quint16 port, const QByteArray &host, const QByteArray &path)
    {
        socket.connectToHost(QHostAddress::LocalHost, port);
        if (!socket.waitForConnected(5000))
            return false;
        socket.write("GET " + path + " HTTP/1.1\r\nHost: " + host
                     + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                       "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
        QByteArray response;
        if (!QTest::qWaitFor(
                [&] {
                    response += socket.readAll();
                    return response.contains("\r\n\r\n") || socket.state() != QAbstractSocket::ConnectedState;
                },
                10000))
            return false;
        if (!response.startsWith("HTTP/1.1 101"))
            return false;
        // From here on the peer takes at most 4 KiB into its own buffer, then nothing.
        socket.setReadBufferSize(4096);
        QObject::connect(&socket, &QTcpSocket::bytesWritten, &socket, [this](qint64 n) { accepted += n; });
        return true;
    }

    // Offers pings until kFloodBytes went out, the proxy stopped taking them for a while, or the
    // connection ended. Keeps a little pending so that a reset shows up as an error.
    void flood(int maxMs)
    {
        const QByteArray chunk = pingChunk();
        QElapsedTimer timer;
        timer.start();
        QElapsedTimer stalled;
        stalled.start();
        qint64 lastAccepted = 0;
        while (accepted < kFloodBytes && timer.elapsed() < maxMs && socket.state() == QAbstractSocket::ConnectedState) {
            if (socket.bytesToWrite() < (256 << 10))
                socket.write(chunk);
            QTest::qWait(1);
            if (accepted != lastAccepted) {
                lastAccepted = accepted;
                stalled.restart();
            } else if (stalled.elapsed() > 1000) {
                break; // the proxy and TCP hold us back: the point of the test
            }
        }
    }

    QTcpSocket socket;
    qint64 accepted = 0;
};

} // namespace

class TestWebSocketFlood : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ManagedProcess> m_proxy;
    quint16 m_port = 0;
    QUrl m_publicUrl;

    void startProxy()
    {
        m_proxy = std::make_unique<ManagedProcess>(QStringLiteral("proxy"));
        QVERIFY2(m_proxy->start(testing::proxyProgram(),
                                {QStringLiteral("--listen"), QStringLiteral("127.0.0.1:0"),
                                 QStringLiteral("--send-timeout"), QString::number(kSendTimeoutSecs)}),
                 qPrintable(m_proxy->errorString()));
        const QRegularExpressionMatch m = m_proxy->waitForLine(kListening);
        QVERIFY2(m.hasMatch(), qPrintable(m_proxy->errorString()));
        m_port = quint16(m.captured(1).toUInt());
        m_publicUrl = QUrl(m.captured(2));
    }

    // Floods `peer` (already open) and checks the proxy's memory and that the peer is cut off.
    void floodAndCheck(PingFlooder &peer, qint64 rssBeforeKiB)
    {
        QElapsedTimer sinceStart;
        sinceStart.start();
        peer.flood(30000);
        const qint64 growthKiB = memoryKiB(m_proxy->pid(), "VmHWM:") - rssBeforeKiB;
        qInfo("the peer got %lld MiB of pings accepted; the proxy's peak RSS grew by %lld KiB", peer.accepted >> 20,
              growthKiB);
        QVERIFY2(growthKiB < kMaxGrowthKiB, qPrintable(QStringLiteral("RSS grew by %1 KiB").arg(growthKiB)));
        QVERIFY2(peer.accepted < kFloodBytes, "the proxy took every ping: nothing holds the peer back");
        // Nothing of the pending pongs is taken: the proxy gives up on the peer after --send-timeout
        // (well before the registration deadline, 10 s, would end an unregistered control channel).
        QTRY_VERIFY_WITH_TIMEOUT(peer.socket.state() == QAbstractSocket::UnconnectedState,
                                 kSendTimeoutSecs * 1000 + 6000);
        QVERIFY(m_proxy->isRunning());
    }

private Q_SLOTS:
    void init()
    {
        if (testing::proxyProgram().isEmpty())
            QSKIP("KEYHOLE_PROXY is not set (run the test through ctest)");
        startProxy();
    }

    void cleanup() { m_proxy.reset(); }

    void testPingFloodOnTheControlChannelIsBounded()
    {
        const qint64 before = memoryKiB(m_proxy->pid(), "VmRSS:");
        QVERIFY(before > 0);
        PingFlooder peer; // needs no registration: the channel opens before any message
        QVERIFY(peer.open(m_port, "localhost", "/proxy/subscribe"));
        floodAndCheck(peer, before);
    }

    void testPingFloodOnAVisitorWebSocketIsBounded()
    {
        FakeTunnelClient client(*crypto::KeyPair::generate(), m_publicUrl);
        QObject::connect(&client, &FakeTunnelClient::messageReceived, &client, [&client] {
            if (const auto *upgrade = std::get_if<protocol::WsRequest>(&client.received.last()))
                client.send(protocol::WsResponse{upgrade->id, true, {}, 0, {}, {}});
        });
        client.connectAndRegister();
        QTRY_VERIFY(!client.receivedOf<protocol::RegistrationResponse>().isEmpty());
        QVERIFY(client.receivedOf<protocol::RegistrationResponse>().first().accepted);
        const qint64 before = memoryKiB(m_proxy->pid(), "VmRSS:");
        QVERIFY(before > 0);
        PingFlooder visitor;
        const QByteArray host =
            (crypto::labelForKey(client.key()) + QStringLiteral(".localhost:") + QString::number(m_port)).toLatin1();
        QVERIFY(visitor.open(m_port, host, "/ws"));
        floodAndCheck(visitor, before);
        // The service's side is told the socket is gone.
        QTRY_VERIFY(!client.receivedOf<protocol::WsTeardown>().isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestWebSocketFlood)
#include "TestWebSocketFlood.moc"
