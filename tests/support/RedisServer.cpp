#include "RedisServer.h"

#include "TestEnvironment.h"

#include <QProcess>
#include <QRegularExpression>
#include <QStandardPaths>

#include <csignal>

namespace keyhole::testing {

RedisServer::RedisServer() = default;

RedisServer::~RedisServer()
{
    thaw(); // a stopped process would not die of SIGKILL until continued on some systems' reapers
    m_process.reset();
}

QString RedisServer::serverProgram()
{
    const QString fromEnv = qEnvironmentVariable("KEYHOLE_REDIS_SERVER");
    return fromEnv.isEmpty() ? QStandardPaths::findExecutable(QStringLiteral("redis-server")) : fromEnv;
}

QString RedisServer::cliProgram()
{
    return QStandardPaths::findExecutable(QStringLiteral("redis-cli"));
}

bool RedisServer::start(const QStringList &extraArgs)
{
    m_extraArgs = extraArgs;
    // A free port can be taken between our check and redis binding it: try a few.
    for (int attempt = 0; attempt < 5; ++attempt) {
        m_port = freeTcpPort();
        if (launch())
            return true;
    }
    return false;
}

bool RedisServer::launch()
{
    if (serverProgram().isEmpty() || cliProgram().isEmpty()) {
        m_error = QStringLiteral("redis-server or redis-cli not installed");
        return false;
    }
    m_process = std::make_unique<ManagedProcess>(QStringLiteral("redis"));
    const QStringList args = QStringList{QStringLiteral("--port"),           QString::number(m_port),
                                         QStringLiteral("--bind"),           QStringLiteral("127.0.0.1"),
                                         QStringLiteral("--save"),           QString(),
                                         QStringLiteral("--appendonly"),     QStringLiteral("no"),
                                         QStringLiteral("--protected-mode"), QStringLiteral("no")}
        + m_extraArgs;
    if (!m_process->start(serverProgram(), args)) {
        m_error = m_process->errorString();
        return false;
    }
    const auto ready = m_process->waitForLine(QRegularExpression(QStringLiteral("Ready to accept connections")), 10000);
    if (!ready.hasMatch()) {
        m_error = QStringLiteral("redis-server did not start: ")
            + QString::fromUtf8(m_process->stdoutData().right(1500));
        m_process->kill();
        return false;
    }
    return true;
}

bool RedisServer::restart()
{
    kill();
    return launch();
}

void RedisServer::kill()
{
    if (!m_process)
        return;
    thaw();
    m_process->kill();
}

void RedisServer::freeze()
{
    if (isRunning())
        ::kill(pid_t(m_process->pid()), SIGSTOP);
}

void RedisServer::thaw()
{
    if (isRunning())
        ::kill(pid_t(m_process->pid()), SIGCONT);
}

bool RedisServer::isRunning() const
{
    return m_process && m_process->isRunning();
}

QString RedisServer::url() const
{
    return QStringLiteral("redis://127.0.0.1:%1").arg(m_port);
}

QByteArray RedisServer::cli(const QStringList &args, int timeoutMs) const
{
    QProcess process;
    process.start(cliProgram(), QStringList{QStringLiteral("-p"), QString::number(m_port)} + args);
    if (!process.waitForFinished(timeoutMs)) {
        process.kill();
        process.waitForFinished();
        return QByteArrayLiteral("(redis-cli timed out)");
    }
    return process.readAllStandardOutput().trimmed();
}

int RedisServer::clientCount() const
{
    // CLIENT LIST includes redis-cli itself.
    const QByteArray list = cli({QStringLiteral("CLIENT"), QStringLiteral("LIST")});
    int count = 0;
    for (const QByteArray &line : list.split('\n')) {
        if (line.startsWith("id=") && !line.contains("cmd=client|list"))
            ++count;
    }
    return count;
}

int RedisServer::subscriberCount(const QString &channel) const
{
    const QList<QByteArray> lines = cli({QStringLiteral("PUBSUB"), QStringLiteral("NUMSUB"), channel}).split('\n');
    return lines.size() >= 2 ? lines.at(1).trimmed().toInt() : -1;
}

int RedisServer::channelCount() const
{
    const QByteArray channels = cli({QStringLiteral("PUBSUB"), QStringLiteral("CHANNELS")});
    return channels.isEmpty() ? 0 : int(channels.split('\n').size());
}

} // namespace keyhole::testing
