#include "net/SocketWriteThrough.h"

#include <QAbstractSocket>
#include <QSslSocket>

#if defined(Q_OS_UNIX)
#include <sys/socket.h>
#include <sys/uio.h>
#include <cerrno>
#endif

// Direct writes need MSG_NOSIGNAL (a peer that has gone is an error to report, not a SIGPIPE):
// Linux and the BSDs have it; macOS does not, and keeps Qt's path, as Windows does.
#if defined(Q_OS_UNIX) && defined(MSG_NOSIGNAL)
#define KEYHOLE_DIRECT_WRITES 1
#endif

#include <algorithm>

namespace keyhole::net {

bool SocketWriteThrough::available()
{
#if defined(KEYHOLE_DIRECT_WRITES)
    return true;
#else
    return false;
#endif
}

bool SocketWriteThrough::canWrite(const QAbstractSocket *socket)
{
#if defined(KEYHOLE_DIRECT_WRITES)
    return socket && socket->socketType() == QAbstractSocket::TcpSocket
        && socket->state() == QAbstractSocket::ConnectedState && socket->bytesToWrite() == 0
        && socket->socketDescriptor() >= 0 && !qobject_cast<const QSslSocket *>(socket);
#else
    Q_UNUSED(socket);
    return false;
#endif
}

qint64 SocketWriteThrough::write(QAbstractSocket *socket, const QByteArrayView *parts, int count)
{
#if defined(KEYHOLE_DIRECT_WRITES)
    if (count <= 0 || !canWrite(socket))
        return 0;
    constexpr int kMaxParts = 16; // a frame's head and a message's few parts; the rest goes via Qt
    iovec vectors[kMaxParts];
    int used = 0;
    for (int i = 0; i < count && used < kMaxParts; ++i) {
        if (parts[i].isEmpty())
            continue;
        vectors[used].iov_base = const_cast<char *>(parts[i].data());
        vectors[used].iov_len = size_t(parts[i].size());
        ++used;
    }
    if (used == 0)
        return 0;
    msghdr message{};
    message.msg_iov = vectors;
    message.msg_iovlen = size_t(used);
    ssize_t sent;
    do {
        sent = ::sendmsg(int(socket->socketDescriptor()), &message, MSG_DONTWAIT | MSG_NOSIGNAL);
    } while (sent < 0 && errno == EINTR);
    return sent > 0 ? qint64(sent) : 0;
#else
    Q_UNUSED(socket);
    Q_UNUSED(parts);
    Q_UNUSED(count);
    return 0;
#endif
}

qint64 SocketWriteThrough::writeAll(QAbstractSocket *socket, const QByteArrayView *parts,
                                    const QByteArray *const *owners, int count)
{
    const qint64 direct = write(socket, parts, count);
    qint64 skip = direct;
    for (int i = 0; i < count; ++i) {
        const qint64 size = parts[i].size();
        if (skip >= size) {
            skip -= size;
            continue;
        }
        if (skip == 0 && owners && owners[i])
            socket->write(*owners[i]);
        else
            socket->write(parts[i].data() + skip, size - skip);
        skip = 0;
    }
    return direct;
}

qint64 SocketWriteThrough::writeAll(QAbstractSocket *socket, const QByteArray &bytes)
{
    const QByteArrayView part(bytes);
    const QByteArray *owner = &bytes;
    return writeAll(socket, &part, &owner, 1);
}

} // namespace keyhole::net
