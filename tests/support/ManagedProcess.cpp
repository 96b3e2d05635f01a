#include "ManagedProcess.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QTest>
#include <QTimer>

namespace keyhole::testing {

namespace {
// Enough of a log to see why a program failed without flooding the CI output.
constexpr int DumpTailBytes = 16 * 1024;

QByteArray tail(const QByteArray &data)
{
    return data.size() <= DumpTailBytes ? data : "[...]" + data.right(DumpTailBytes);
}
} // namespace

ManagedProcess::ManagedProcess(const QString &name, QObject *parent)
    : QObject(parent)
    , m_name(name)
{
    connect(&m_process, &QProcess::readyReadStandardOutput, this, &ManagedProcess::readStdout);
    connect(&m_process, &QProcess::readyReadStandardError, this,
            [this] { m_stderr += m_process.readAllStandardError(); });
}

ManagedProcess::~ManagedProcess()
{
    // A crash nobody asked for (a signal this harness did not send) fails the test that owned the program,
    // even when every check passed: a proxy that segfaults after answering is broken.
    const bool crashed = m_started && !m_stoppedByUs && !isRunning() && m_process.exitStatus() == QProcess::CrashExit;
    kill();
    if (QTest::currentTestFailed() || crashed)
        dumpOutput();
    if (crashed && !m_crashExpected) {
        const QString message = QStringLiteral("%1 (%2) crashed (exit code/signal %3) during the test")
                                    .arg(m_name, m_process.program())
                                    .arg(m_process.exitCode());
        QTest::qFail(qPrintable(message), __FILE__, __LINE__);
    }
}

bool ManagedProcess::start(const QString &program, const QStringList &arguments, const QProcessEnvironment &environment,
                           int timeoutMs)
{
    m_process.setProgram(program);
    m_process.setArguments(arguments);
    m_process.setProcessEnvironment(environment);
    m_process.start(QIODevice::ReadOnly);
    if (!m_process.waitForStarted(timeoutMs)) {
        m_error = QStringLiteral("%1: cannot start %2: %3").arg(m_name, program, m_process.errorString());
        return false;
    }
    m_started = true;
    return true;
}

void ManagedProcess::readStdout()
{
    const QByteArray chunk = m_process.readAllStandardOutput();
    m_stdout += chunk;
    m_partialLine += chunk;
    qsizetype newline;
    while ((newline = m_partialLine.indexOf('\n')) >= 0) {
        QByteArray line = m_partialLine.left(newline);
        if (line.endsWith('\r'))
            line.chop(1);
        m_lines.append(line);
        m_partialLine.remove(0, newline + 1);
    }
}

template <typename Done> bool ManagedProcess::waitUntil(Done done, int timeoutMs)
{
    const QDeadlineTimer deadline(timeoutMs);
    QEventLoop loop;
    QTimer timer;
    timer.setSingleShot(true);
    connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
    // Connected after readStdout, so the new lines are in place when the loop wakes.
    connect(&m_process, &QProcess::readyReadStandardOutput, &loop, &QEventLoop::quit);
    connect(&m_process, &QProcess::finished, &loop, &QEventLoop::quit);
    while (!done()) {
        if (m_process.state() == QProcess::NotRunning) {
            readStdout();
            return done();
        }
        if (deadline.hasExpired())
            return false;
        timer.start(int(qMax<qint64>(1, deadline.remainingTime())));
        loop.exec();
    }
    return true;
}

bool ManagedProcess::scanLines(const QRegularExpression &pattern, QRegularExpressionMatch *match)
{
    for (; m_nextLine < m_lines.size(); ++m_nextLine) {
        const QRegularExpressionMatch m = pattern.match(QString::fromUtf8(m_lines.at(m_nextLine)));
        if (m.hasMatch()) {
            *match = m;
            ++m_nextLine;
            return true;
        }
    }
    return false;
}

QRegularExpressionMatch ManagedProcess::waitForLine(const QRegularExpression &pattern, int timeoutMs)
{
    QRegularExpressionMatch match;
    if (!waitUntil([&] { return scanLines(pattern, &match); }, timeoutMs)) {
        m_error = isRunning() ? QStringLiteral("%1: no stdout line matching /%2/ within %3 ms")
                                    .arg(m_name, pattern.pattern())
                                    .arg(timeoutMs)
                              : QStringLiteral("%1: exited (code %2) before printing a line matching /%3/")
                                    .arg(m_name)
                                    .arg(m_process.exitCode())
                                    .arg(pattern.pattern());
    }
    return match;
}

bool ManagedProcess::waitForExit(int timeoutMs)
{
    const bool exited = waitUntil([this] { return m_process.state() == QProcess::NotRunning; }, timeoutMs);
    if (!exited)
        m_error = QStringLiteral("%1: still running after %2 ms").arg(m_name).arg(timeoutMs);
    return exited;
}

void ManagedProcess::terminate()
{
    if (!isRunning())
        return;
    m_stoppedByUs = true;
    m_process.terminate();
}

void ManagedProcess::kill()
{
    if (!isRunning())
        return;
    m_stoppedByUs = true;
    m_process.kill();
    m_process.waitForFinished(5000);
    m_stderr += m_process.readAllStandardError();
    readStdout();
}

bool ManagedProcess::isRunning() const
{
    return m_process.state() != QProcess::NotRunning;
}

qint64 ManagedProcess::pid() const
{
    return m_process.processId();
}

int ManagedProcess::exitCode() const
{
    return m_process.exitCode();
}

QProcess::ExitStatus ManagedProcess::exitStatus() const
{
    return m_process.exitStatus();
}

QString ManagedProcess::program() const
{
    return m_process.program();
}

void ManagedProcess::dumpOutput() const
{
    qWarning().noquote() << QStringLiteral("----- %1 (%2) stdout -----\n").arg(m_name, m_process.program())
            + QString::fromUtf8(tail(m_stdout));
    qWarning().noquote() << QStringLiteral("----- %1 stderr -----\n").arg(m_name) + QString::fromUtf8(tail(m_stderr));
}

} // namespace keyhole::testing
