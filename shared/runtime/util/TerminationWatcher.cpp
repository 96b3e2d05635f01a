#include "util/TerminationWatcher.h"

#include <QLoggingCategory>
#include <QtGlobal>

#ifdef Q_OS_WIN
#include <QMetaObject>
#include <QPointer>

#include <atomic>

#include <windows.h>
#else
#include <QSocketNotifier>

#include <cerrno>
#include <csignal>
#include <fcntl.h>
#include <sys/socket.h>
#include <unistd.h>
#endif

// The runtime knows no part above it, so it names its own category; "keyhole.proxy" as before,
// so the line and its filter rules stay the same.
Q_DECLARE_LOGGING_CATEGORY(lcTermination)
Q_LOGGING_CATEGORY(lcTermination, "keyhole.proxy", QtInfoMsg)

namespace keyhole::util {

#ifdef Q_OS_WIN

namespace {
std::atomic<TerminationWatcher *> g_watcher{nullptr};

BOOL WINAPI consoleHandler(DWORD event)
{
    TerminationWatcher *watcher = g_watcher.load();
    if (!watcher)
        return FALSE;
    QString name;
    switch (event) {
    case CTRL_C_EVENT:
        name = QStringLiteral("SIGINT");
        break;
    case CTRL_BREAK_EVENT:
        name = QStringLiteral("SIGBREAK");
        break;
    case CTRL_CLOSE_EVENT:
        name = QStringLiteral("CTRL_CLOSE");
        break;
    case CTRL_LOGOFF_EVENT:
        name = QStringLiteral("CTRL_LOGOFF");
        break;
    case CTRL_SHUTDOWN_EVENT:
        name = QStringLiteral("CTRL_SHUTDOWN");
        break;
    default:
        return FALSE;
    }
    // This runs on a thread of its own: hand over to the watcher's thread.
    QMetaObject::invokeMethod(
        watcher, [watcher, name] { Q_EMIT watcher->terminationRequested(name); }, Qt::QueuedConnection);
    return TRUE;
}
} // namespace

struct TerminationWatcher::Platform {
    explicit Platform(TerminationWatcher *watcher)
    {
        g_watcher.store(watcher);
        SetConsoleCtrlHandler(&consoleHandler, TRUE);
    }
    ~Platform()
    {
        SetConsoleCtrlHandler(&consoleHandler, FALSE);
        g_watcher.store(nullptr);
    }
    void watchReload() { }
};

#else

namespace {
// The write end for the signal handler; a signal handler may only touch async-signal-safe state.
volatile sig_atomic_t g_writeFd = -1;

void signalHandler(int signo)
{
    const int savedErrno = errno;
    const int fd = g_writeFd;
    if (fd >= 0) {
        const unsigned char byte = static_cast<unsigned char>(signo);
        [[maybe_unused]] const ssize_t n = ::write(fd, &byte, 1);
    }
    errno = savedErrno;
}

void setNonBlockingCloexec(int fd)
{
    ::fcntl(fd, F_SETFL, ::fcntl(fd, F_GETFL) | O_NONBLOCK);
    ::fcntl(fd, F_SETFD, ::fcntl(fd, F_GETFD) | FD_CLOEXEC);
}
} // namespace

struct TerminationWatcher::Platform {
    int fds[2] = {-1, -1};
    QSocketNotifier *notifier = nullptr;
    struct sigaction oldInt = {};
    struct sigaction oldTerm = {};
    struct sigaction oldPipe = {};
    struct sigaction oldHup = {};
    bool installed = false;
    bool hupInstalled = false;

    explicit Platform(TerminationWatcher *watcher)
    {
        // A write to a closed socket must give EPIPE, not kill the process.
        struct sigaction ignore = {};
        ignore.sa_handler = SIG_IGN;
        sigemptyset(&ignore.sa_mask);
        ::sigaction(SIGPIPE, &ignore, &oldPipe);

        if (::socketpair(AF_UNIX, SOCK_STREAM, 0, fds) != 0) {
            qCWarning(lcTermination) << "cannot watch for termination signals: socketpair failed, errno" << errno;
            fds[0] = fds[1] = -1;
            return;
        }
        setNonBlockingCloexec(fds[0]);
        setNonBlockingCloexec(fds[1]);
        g_writeFd = fds[1];

        notifier = new QSocketNotifier(fds[0], QSocketNotifier::Read, watcher);
        QObject::connect(notifier, &QSocketNotifier::activated, watcher, [this, watcher] {
            unsigned char byte = 0;
            while (::read(fds[0], &byte, 1) == 1) {
                if (byte == SIGHUP) {
                    Q_EMIT watcher->reloadRequested();
                    continue;
                }
                const QString name = byte == SIGINT ? QStringLiteral("SIGINT")
                    : byte == SIGTERM               ? QStringLiteral("SIGTERM")
                                                    : QStringLiteral("SIG%1").arg(int(byte));
                Q_EMIT watcher->terminationRequested(name);
            }
        });

        struct sigaction action = {};
        action.sa_handler = &signalHandler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGINT, &action, &oldInt);
        ::sigaction(SIGTERM, &action, &oldTerm);
        installed = true;
    }

    void watchReload()
    {
        if (!installed || hupInstalled)
            return;
        struct sigaction action = {};
        action.sa_handler = &signalHandler;
        sigemptyset(&action.sa_mask);
        action.sa_flags = SA_RESTART;
        ::sigaction(SIGHUP, &action, &oldHup);
        hupInstalled = true;
    }

    ~Platform()
    {
        if (installed) {
            ::sigaction(SIGINT, &oldInt, nullptr);
            ::sigaction(SIGTERM, &oldTerm, nullptr);
        }
        if (hupInstalled)
            ::sigaction(SIGHUP, &oldHup, nullptr);
        g_writeFd = -1;
        delete notifier;
        for (int fd : fds) {
            if (fd >= 0)
                ::close(fd);
        }
        // SIGPIPE stays ignored: sockets may still be open while the process winds down.
    }
};

#endif

TerminationWatcher::TerminationWatcher(QObject *parent)
    : QObject(parent)
    , m_platform(std::make_unique<Platform>(this))
{
}

TerminationWatcher::~TerminationWatcher() = default;

void TerminationWatcher::watchReload()
{
    m_platform->watchReload();
}

} // namespace keyhole::util
