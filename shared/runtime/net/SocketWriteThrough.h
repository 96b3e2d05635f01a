#pragma once

#include <QByteArrayView>
#include <QtGlobal>

class QAbstractSocket;

namespace keyhole::net {

// Hands bytes straight to the kernel for a plain TCP socket whose Qt write buffer is empty, in one
// gathered system call, instead of copying them into QAbstractSocket's buffer and writing them out
// on a later pass of the loop.
//
// Why: QAbstractSocket copies every write under 4 KiB into a write-buffer chunk of 32 KiB that it
// keeps for the socket's life once used (a page or two of RSS for each of thousands of idle tunnels),
// writes one chunk per system call (a frame's head and body go out in two), and goes through its
// write notifier, its bytesWritten() signal and a pass of the event loop for every write. The kernel
// nearly always takes a small write whole, so none of that is needed then.
//
// Order is kept: only when Qt holds nothing unsent does anything go directly, and what the kernel
// does not take is for the caller to write through the socket as usual (behind what went directly).
// Not for TLS sockets (bytes must be encrypted) nor on platforms without it: write() then takes
// nothing and everything goes through Qt.
class SocketWriteThrough
{
public:
    // Whether this platform writes directly at all (Linux and the BSDs; not macOS nor Windows).
    static bool available();
    // Whether bytes may go directly to this socket now: plain TCP, connected, nothing buffered by Qt.
    static bool canWrite(const QAbstractSocket *socket);
    // Writes the parts in order, as one system call; returns how many bytes the kernel took
    // (0..their total). 0 also when the kernel took nothing or canWrite() is false; an error is
    // left for the socket's own write to meet and report.
    static qint64 write(QAbstractSocket *socket, const QByteArrayView *parts, int count);
    // write(), then the rest through the socket's own write(), in order. A whole part with an owner
    // (owners[i], may be null) goes by reference: QIODevice keeps a QByteArray of 4 KiB or more as
    // it is; a part's unsent tail, or a small part, is copied into the socket's buffer. Returns the
    // bytes that went directly.
    static qint64 writeAll(QAbstractSocket *socket, const QByteArrayView *parts, const QByteArray *const *owners,
                           int count);
    static qint64 writeAll(QAbstractSocket *socket, const QByteArray &bytes);
};

} // namespace keyhole::net
