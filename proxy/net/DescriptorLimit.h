#pragma once

#include <QtGlobal>

namespace keyhole::proxy {

// The process's limit on open file descriptors (RLIMIT_NOFILE). A server holding thousands of
// sockets needs more than the usual soft limit of 1024, and the hard limit is ours to take.
class DescriptorLimit
{
public:
    // Raises the soft limit to the hard limit; returns the soft limit now in force, or -1 where the
    // platform has no such limit (not POSIX) or it cannot be read.
    static qint64 raiseToHardLimit();
    // Descriptors the process needs besides its counted sockets: listener, event loop, Redis, logs.
    static constexpr qint64 kReserve = 64;
};

} // namespace keyhole::proxy
