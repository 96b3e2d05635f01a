#pragma once

#include <QByteArray>
#include <QObject>
#include <QProcess>
#include <QProcessEnvironment>
#include <QRegularExpression>
#include <QRegularExpressionMatch>
#include <QStringList>

namespace keyhole::testing {

// A child program for a test: collects stdout/stderr, waits for stdout lines without sleeping (a
// QEventLoop woken by readyRead), and kills the program when destroyed. If the current test failed
// or the program crashed, its stderr is dumped through qWarning so CI logs show why; a crash also
// fails the test (see setCrashExpected).
class ManagedProcess : public QObject
{
    Q_OBJECT

public:
    // `name` prefixes diagnostics ("proxy", "client", ...).
    explicit ManagedProcess(const QString &name, QObject *parent = nullptr);
    ~ManagedProcess() override;
    Q_DISABLE_COPY(ManagedProcess)

    // Starts the program; false (see errorString()) if it could not be started within `timeoutMs`.
    bool start(const QString &program, const QStringList &arguments,
               const QProcessEnvironment &environment = QProcessEnvironment::systemEnvironment(),
               int timeoutMs = 10000);

    // Waits for the next stdout line (after the last matched one) that matches `pattern`. Returns an
    // invalid/non-matching match on timeout or if the program exits first; see errorString().
    QRegularExpressionMatch waitForLine(const QRegularExpression &pattern, int timeoutMs = 15000);

    // Waits for the program to exit; false on timeout.
    bool waitForExit(int timeoutMs = 15000);

    // A program that dies of a signal this object did not send fails the current test when this object is
    // destroyed, unless the test says it expects that.
    void setCrashExpected(bool expected) { m_crashExpected = expected; }

    void terminate(); // SIGTERM
    void kill();      // SIGKILL, then waits for the exit to be reaped

    bool isRunning() const;
    qint64 pid() const;
    int exitCode() const;
    QProcess::ExitStatus exitStatus() const;
    QString program() const;
    QString errorString() const { return m_error; }

    QByteArray stdoutData() const { return m_stdout; }
    QByteArray stderrData() const { return m_stderr; }
    QList<QByteArray> stdoutLines() const { return m_lines; }

    // Dumps stdout/stderr through qWarning (also done by the destructor when the test failed).
    void dumpOutput() const;

private:
    void readStdout();
    // Runs an event loop until `done()` is true, the program exits or `timeoutMs` passes.
    template <typename Done> bool waitUntil(Done done, int timeoutMs);
    bool scanLines(const QRegularExpression &pattern, QRegularExpressionMatch *match);

    QString m_name;
    QProcess m_process;
    QByteArray m_stdout;
    QByteArray m_stderr;
    QByteArray m_partialLine;
    QList<QByteArray> m_lines;
    int m_nextLine = 0;
    QString m_error;
    bool m_started = false;
    bool m_stoppedByUs = false;
    bool m_crashExpected = false;
};

} // namespace keyhole::testing
