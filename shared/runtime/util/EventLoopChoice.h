#pragma once

#include <QString>

namespace keyhole::util {

// Makes Qt use its own poll()-based event dispatcher instead of GLib's on Linux, for the headless
// programs. With GLib's, every socket write that arms a write notifier also signals the main
// context's eventfd: measured at 1 KiB requests, the proxy made 4.9 read/write system calls per
// request with GLib and 2.3 without (keyhole-cli 5.9 and 2.6). GUI programs keep GLib, which their
// platform integration may need. Call before the application object is created; an explicit
// QT_NO_GLIB in the environment wins. A no-op where Qt was built without GLib.
void preferPlainEventLoop();

// Which event dispatcher a headless program runs on: Qt's own (poll()-based, after
// preferPlainEventLoop()) or keyhole's epoll dispatcher (eventloop/EpollEventDispatcher.h), whose
// cost per loop pass does not grow with the number of idle sockets. epoll is the default where it
// exists (Linux); elsewhere only qt is accepted.
enum class EventLoopKind { Qt, Epoll };

struct EventLoopChoice {
    EventLoopKind kind = EventLoopKind::Qt;
    QString error; // non-empty: the value given was not understood; kind is the default then
};

// The value of --event-loop (or --event-loop=VALUE) in argv, else of KEYHOLE_EVENT_LOOP, else the
// default. Reads argv itself because the dispatcher must be chosen before the application object,
// and so the command line parser, exist; the parser still lists the option for --help.
EventLoopChoice chooseEventLoop(int argc, const char *const *argv);

// Installs the chosen dispatcher for the main thread (Qt's: preferPlainEventLoop()). Call before
// the application object is created. Falls back to Qt's, with a warning, if epoll is unavailable.
// Returns what is in use.
EventLoopKind installEventLoop(EventLoopKind kind);

// "--event-loop" help text, shared by the programs' command line parsers.
QString eventLoopOptionDescription();

} // namespace keyhole::util
