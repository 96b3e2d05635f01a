#pragma once

namespace keyhole::util {

// Makes Qt use its own poll()-based event dispatcher instead of GLib's on Linux, for the headless
// programs. With GLib's, every socket write that arms a write notifier also signals the main
// context's eventfd: measured at 1 KiB requests, the proxy made 4.9 read/write system calls per
// request with GLib and 2.3 without (keyhole-cli 5.9 and 2.6). GUI programs keep GLib, which their
// platform integration may need. Call before the application object is created; an explicit
// QT_NO_GLIB in the environment wins. A no-op where Qt was built without GLib.
void preferPlainEventLoop();

} // namespace keyhole::util
