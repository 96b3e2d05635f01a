#pragma once

#include <QObject>

#include <memory>

namespace keyhole::util {

// Turns SIGINT/SIGTERM (POSIX) or Ctrl+C/close events (Windows console) into a Qt signal on the
// main thread, so shutdown runs in the event loop instead of in a signal handler; and, once
// watchReload() is called, SIGHUP into reloadRequested() (POSIX only: Windows has no such signal, and
// there the call does nothing). Create at most one, on the main thread, after QCoreApplication.
class TerminationWatcher : public QObject
{
    Q_OBJECT

public:
    explicit TerminationWatcher(QObject *parent = nullptr);
    ~TerminationWatcher() override;

    // From now on SIGHUP asks for a reload instead of ending the process. Off by default: a program
    // in a terminal that closes should still go away.
    void watchReload();

Q_SIGNALS:
    // `signalName` is "SIGINT", "SIGTERM" or a platform equivalent. A second request while the
    // first is being handled is emitted again so callers can exit at once.
    void terminationRequested(const QString &signalName);
    void reloadRequested();

private:
    struct Platform;
    std::unique_ptr<Platform> m_platform;
};

} // namespace keyhole::util
