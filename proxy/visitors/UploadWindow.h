#pragma once

#include <QByteArray>
#include <QtGlobal>

namespace keyhole::proxy {

// A visitor's request body on its way to the client: the bytes the parser gave and not sent yet,
// and the bytes sent and not yet credited back (HttpCredit). The connection reads the visitor only
// while room() is left, so together they never exceed the stream window: a client that does not
// credit holds the visitor back through TCP, not through our memory.
class UploadWindow
{
public:
    void reset();

    // Body bytes the visitor may still be read for: the window less what is held and in flight.
    qint64 room() const;
    // Bytes the parser produced: kept for sending when `forward`, only counted otherwise.
    void take(const QByteArray &bytes, bool forward);
    qint64 total() const { return m_total; }
    qint64 held() const { return m_held.size(); }

    // The first bytes that ride in the request's head (at most the inline size; all of them when
    // the whole body fits inline); they count against the window like any other.
    QByteArray takeFirst();
    // The next HttpBody's data: at most a chunk and what the window allows; empty when nothing may go.
    QByteArray next();
    void credited(qint64 bytes);

private:
    QByteArray m_held;
    qint64 m_inFlight = 0;
    qint64 m_total = 0;
};

} // namespace keyhole::proxy
