#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>

namespace keyhole::proxy {

// A streamed answer on its way to the visitor: how it is framed on the wire, whether the client
// keeps to the window and to the length it announced, and how much credit is due as the visitor's
// kernel takes the bytes. Holds no body: the connection writes each piece as it arrives.
class ResponseStream
{
public:
    enum class Framing {
        Length,     // the service's Content-Length, passed on
        Chunked,    // HTTP/1.1 visitor, no length known
        UntilClose, // HTTP/1.0 visitor, no length known: the connection's end ends the body
    };

    // Framing for an answer whose service headers announced `contentLength` (-1: none).
    static Framing framingFor(qint64 contentLength, bool http10);
    // The service's Content-Length if it is one plain number; -1 otherwise.
    static qint64 announcedLength(const QByteArray &value);

    void begin(Framing framing, qint64 contentLength);
    void reset();
    bool active() const { return m_active; }
    Framing framing() const { return m_framing; }
    qint64 total() const { return m_total; }

    // `bytes` more came from the client. False (with `*why`) when they break the window or run
    // past the announced length: the exchange is then cancelled.
    bool receive(qint64 bytes, QString *why);
    // The wire bytes for `data` (a chunk of its own with chunked framing).
    QByteArray frame(const QByteArray &data) const;
    // The body ended: the wire bytes that close it; false in `*complete` when it is shorter than announced.
    QByteArray finish(bool *complete);
    // Credit to grant now that `unsent` bytes are still queued for the visitor (they may include
    // framing: the estimate errs on the side of less). Batched: 0 until a batch is due or everything left.
    qint64 creditDue(qint64 unsent);

private:
    Framing m_framing = Framing::Chunked;
    qint64 m_length = -1;
    qint64 m_total = 0;
    qint64 m_uncredited = 0; // received and not yet credited
    bool m_active = false;
};

} // namespace keyhole::proxy
