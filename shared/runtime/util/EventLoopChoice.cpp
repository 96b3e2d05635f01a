#include "util/EventLoopChoice.h"

#include <QByteArray>
#include <QCoreApplication>
#include <QtGlobal>

#include <cstring>

#ifdef KEYHOLE_HAVE_EPOLL_DISPATCHER
#include "eventloop/EpollEventDispatcher.h"
#endif

namespace keyhole::util {

namespace {

constexpr EventLoopKind kDefault =
#ifdef KEYHOLE_HAVE_EPOLL_DISPATCHER
    EventLoopKind::Epoll;
#else
    EventLoopKind::Qt;
#endif

EventLoopChoice parseValue(const QByteArray &value, const char *source)
{
    if (value == "qt")
        return {EventLoopKind::Qt, {}};
#ifdef KEYHOLE_HAVE_EPOLL_DISPATCHER
    if (value == "epoll")
        return {EventLoopKind::Epoll, {}};
    const char *expected = "qt or epoll";
#else
    const char *expected = "qt (epoll is Linux only)";
#endif
    return {kDefault,
            QStringLiteral("%1 must be %2, not '%3'")
                .arg(QLatin1String(source), QLatin1String(expected), QString::fromLocal8Bit(value))};
}

} // namespace

void preferPlainEventLoop()
{
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", QByteArrayLiteral("1"));
}

EventLoopChoice chooseEventLoop(int argc, const char *const *argv)
{
    static const char option[] = "--event-loop";
    for (int i = 1; i < argc && argv[i]; ++i) {
        if (std::strcmp(argv[i], "--") == 0)
            break;
        if (std::strcmp(argv[i], option) == 0) {
            if (i + 1 >= argc || !argv[i + 1])
                return {kDefault, QStringLiteral("--event-loop needs a value: qt or epoll")};
            return parseValue(QByteArray(argv[i + 1]), option);
        }
        if (std::strncmp(argv[i], option, sizeof option - 1) == 0 && argv[i][sizeof option - 1] == '=')
            return parseValue(QByteArray(argv[i] + sizeof option), option);
    }
    if (qEnvironmentVariableIsSet("KEYHOLE_EVENT_LOOP"))
        return parseValue(qgetenv("KEYHOLE_EVENT_LOOP"), "KEYHOLE_EVENT_LOOP");
    return {kDefault, {}};
}

EventLoopKind installEventLoop(EventLoopKind kind)
{
    preferPlainEventLoop(); // also what any other thread's loop runs on
#ifdef KEYHOLE_HAVE_EPOLL_DISPATCHER
    if (kind == EventLoopKind::Epoll) {
        auto *dispatcher = new eventloop::EpollEventDispatcher;
        if (dispatcher->isValid()) {
            QCoreApplication::setEventDispatcher(dispatcher); // the main thread owns it
            return EventLoopKind::Epoll;
        }
        delete dispatcher;
        qWarning("keyhole: the epoll event loop is unavailable; using Qt's");
    }
#else
    Q_UNUSED(kind);
#endif
    return EventLoopKind::Qt;
}

QString eventLoopOptionDescription()
{
#ifdef KEYHOLE_HAVE_EPOLL_DISPATCHER
    return QStringLiteral("Event loop: epoll (default; cost does not grow with idle connections) or qt "
                          "(Qt's poll()-based one). Also KEYHOLE_EVENT_LOOP.");
#else
    return QStringLiteral("Event loop: qt (the only one on this platform). Also KEYHOLE_EVENT_LOOP.");
#endif
}

} // namespace keyhole::util
