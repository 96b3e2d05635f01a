#pragma once

#include "http/HttpMessageHead.h"

#include <QByteArray>
#include <QString>

#include <memory>

namespace keyhole::http {

// An incremental HTTP/1.x parser over llhttp, for requests (proxy, from visitors) or responses
// (client, from the local target). It buffers one message's body up to a limit and stops after
// the head and after each message so the caller decides what comes next (pipelining, upgrades,
// 100-continue). Every limit gives a specific error that maps to an HTTP status.
//
// Body limit: a Content-Length above maxBodyBytes is still reported as HeadComplete first, so the
// caller can answer 413 (or raise the limit with setMaxBodyBytes) without reading the body; the next
// feed() then fails at once with BodyTooLarge. Chunked and EOF-delimited bodies fail as soon as they
// grow past the limit. reset() restores the limit given to the constructor; setExpectNoBody() stays
// until changed. An upgrade request (WebSocket handshake, CONNECT) gives HeadComplete, then
// MessageComplete with no body; the bytes after `consumed` belong to the new protocol. feed() after
// MessageComplete without reset() starts the next message as if reset() had been called.
class HttpParser
{
public:
    enum class Mode { Request, Response };

    struct Limits {
        qsizetype maxHeadBytes = 32 * 1024; // request/status line + headers
        int maxHeaders = 100;
        qsizetype maxUrlBytes = 8 * 1024;
        qint64 maxBodyBytes = 512000;
        // Header names and values share the buffer given to feed(const QByteArray &, ...) instead
        // of being copied, when that buffer's allocation is at most this many bytes (0: always
        // copied). Only for a caller that never changes a buffer it has fed in place: the headers
        // keep it alive, so it must be small.
        qsizetype shareHeadersFromBufferUpTo = 0;
    };

    enum class Status {
        NeedMore,        // everything given was consumed; feed more
        HeadComplete,    // head() is ready; feed the rest (from `consumed`) to get the body
        MessageComplete, // the whole message is in head() + body(); call reset() before the next
        Error,
    };

    enum class Error {
        None,
        Malformed,      // 400 (or 502 for a response)
        HeadTooLarge,   // 431
        TooManyHeaders, // 431
        UrlTooLong,     // 414
        BodyTooLarge,   // 413 (or 502 for a response)
    };

    HttpParser(Mode mode, const Limits &limits);
    ~HttpParser();
    HttpParser(const HttpParser &) = delete;
    HttpParser &operator=(const HttpParser &) = delete;

    // Parses data[0..len). `*consumed` says how many bytes belong to this message so far; the
    // caller keeps the rest for the next call. After HeadComplete, call feed again with the rest.
    Status feed(const char *data, qsizetype len, qsizetype *consumed);
    // The same for buffer[from..]. Body bytes are then not copied while they can be a slice of
    // `buffer` (protocol::sharedSlice()): the body taken after the call shares buffer's allocation.
    Status feed(const QByteArray &buffer, qsizetype from, qsizetype *consumed);
    // The peer closed: completes a response whose body runs to EOF. Returns MessageComplete,
    // NeedMore (nothing in progress) or Error (truncated message).
    Status finish();

    // For responses: the request was HEAD (or the status says no body); set before feeding.
    void setExpectNoBody(bool noBody);
    // Once the head is known, the body limit can be changed (e.g. a larger one for a route).
    void setMaxBodyBytes(qint64 max);

    const RequestHead &requestHead() const;
    const ResponseHead &responseHead() const;
    const QByteArray &body() const;
    QByteArray takeBody();

    Error error() const;
    QString errorText() const;
    bool inMessage() const; // some bytes of a message have been seen and it is not complete

    // Ready for the next message on the same connection.
    void reset();

private:
    struct Private;
    std::unique_ptr<Private> d;
};

} // namespace keyhole::http
