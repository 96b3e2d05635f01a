// keyhole-proxy with few file descriptors (prlimit --nofile=64:64): it warns at start that
// --max-connections does not fit, and once idle visitors have taken every descriptor it keeps
// listening, accepting and serving again as soon as some of them leave.

#include "TestSupport.h"

#include <QElapsedTimer>
#include <QFile>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>

#include <memory>
#include <vector>

using namespace keyhole::testing;

namespace {
const QRegularExpression kListening(QStringLiteral("^keyhole-proxy listening on \\S*:(\\d+) "));

// True when GET /healthz on a new connection answers 200 within `timeoutMs`.
bool healthAnswers(quint16 port, int timeoutMs)
{
    QTcpSocket socket;
    socket.connectToHost(QHostAddress::LocalHost, port);
    socket.write("GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n");
    QByteArray answer;
    const bool done = QTest::qWaitFor(
        [&] {
            answer += socket.readAll();
            return answer.contains("\r\n\r\n") || socket.state() == QAbstractSocket::UnconnectedState;
        },
        timeoutMs);
    return done && answer.startsWith("HTTP/1.1 200");
}

// User plus system CPU time of process `pid`, in clock ticks (-1 when unknown).
qint64 cpuTicks(qint64 pid)
{
    QFile stat(QStringLiteral("/proc/%1/stat").arg(pid));
    if (!stat.open(QIODevice::ReadOnly))
        return -1;
    const QByteArray line = stat.readAll();
    // Fields after the command name (which may hold spaces): state is the first, utime the 12th.
    const QList<QByteArray> fields = line.mid(line.lastIndexOf(')') + 2).split(' ');
    return fields.size() > 12 ? fields[11].toLongLong() + fields[12].toLongLong() : -1;
}
} // namespace

class TestDescriptorExhaustion : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testAcceptsAgainOnceDescriptorsAreFree()
    {
        const QString prlimit = QStandardPaths::findExecutable(QStringLiteral("prlimit"));
        if (prlimit.isEmpty())
            QSKIP("prlimit (util-linux) is not installed");
        ManagedProcess proxy(QStringLiteral("proxy"));
        QVERIFY2(proxy.start(prlimit,
                             {QStringLiteral("--nofile=64:64"), proxyProgram(), QStringLiteral("--listen"),
                              QStringLiteral("127.0.0.1:0"), QStringLiteral("--head-timeout"), QStringLiteral("60"),
                              QStringLiteral("--send-timeout"), QStringLiteral("30")}),
                 qPrintable(proxy.errorString()));
        const QRegularExpressionMatch listening = proxy.waitForLine(kListening);
        QVERIFY2(listening.hasMatch(), qPrintable(proxy.errorString()));
        const quint16 port = listening.captured(1).toUShort();
        QTRY_VERIFY(proxy.stderrData().contains("the open file limit is 64, less than the 10064"));
        QVERIFY(healthAnswers(port, 5000));

        // Idle visitors take every descriptor the proxy has left; the rest wait in the listen backlog.
        std::vector<std::unique_ptr<QTcpSocket>> idle;
        for (int i = 0; i < 80; ++i) {
            idle.push_back(std::make_unique<QTcpSocket>());
            idle.back()->connectToHost(QHostAddress::LocalHost, port);
        }
        QTRY_VERIFY_WITH_TIMEOUT(proxy.stderrData().contains("cannot accept connections"), 10000);
        QVERIFY(!healthAnswers(port, 500));
        // Waiting for descriptors costs no CPU: no accept() retried in a loop.
        const qint64 before = cpuTicks(proxy.pid());
        QTest::qWait(2000);
        const qint64 spent = cpuTicks(proxy.pid()) - before;
        QVERIFY2(before >= 0 && spent < 10, qPrintable(QStringLiteral("%1 ticks in 2 s").arg(spent)));

        // Some leave: the proxy accepts again by itself, the waiting ones and new ones.
        for (int i = 0; i < 40; ++i)
            idle[i]->abort();
        {
            QElapsedTimer clock;
            clock.start();
            bool answered = false;
            while (!answered && clock.elapsed() < 15000)
                answered = healthAnswers(port, 2000);
            QVERIFY2(answered, "no answer after descriptors were freed");
        }
        QVERIFY(proxy.isRunning());
    }
};

QTEST_GUILESS_MAIN(TestDescriptorExhaustion)
#include "TestDescriptorExhaustion.moc"
