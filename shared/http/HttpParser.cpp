#include "http/HttpParser.h"

#include "http/HeaderRules.h"
#include "http/HttpSyntax.h"
#include "http/RequestFramingCheck.h"
#include "http/RequestTargetCheck.h"
#include "protocol/SharedSlice.h"

#include <llhttp.h>

#include <algorithm>
#include <utility>

namespace keyhole::http {

namespace {

enum class LastCallback { None, Field, Value };

// Headers of a typical browser request or server answer (10 to 20 fields).
constexpr int kUsualHeaderCount = 16;

QByteArray trimTrailingWhitespace(QByteArray value)
{
    qsizetype end = value.size();
    while (end > 0 && (value.at(end - 1) == ' ' || value.at(end - 1) == '\t'))
        --end;
    value.truncate(end);
    return value;
}

} // namespace

struct HttpParser::Private {
    Mode mode;
    Limits limits;
    qint64 baseMaxBodyBytes = 0;
    llhttp_t parser;
    llhttp_settings_t settings;

    RequestHead request;
    ResponseHead response;
    HeaderList *headers = nullptr; // the list of the head being parsed
    QByteArray method;
    QByteArray url;
    QByteArray reason;
    QByteArray body;
    const QByteArray *source = nullptr; // what feed() reads, when the body may share it
    qint64 reserveLength = -1;          // a Content-Length within the limit, reserved once on the first copy
    LastCallback last = LastCallback::None;

    bool expectNoBody = false;
    bool bodyExpected = false; // per the head: a 304 may announce a length it never sends
    bool headComplete = false;
    bool messageComplete = false;
    bool started = false;
    qsizetype headBytes = 0;

    // Requests only: the strict second reading (see RequestFramingCheck), and where it ended.
    RequestFramingCheck check;
    bool checkChunked = false;
    // Trailers are counted against the head limits and dropped (see onHeaderField).
    int headHeaders = 0;
    int trailerFields = 0;
    qsizetype trailerBytes = 0;

    Error error = Error::None;
    QString errorText;

    void init()
    {
        llhttp_init(&parser, mode == Mode::Request ? HTTP_REQUEST : HTTP_RESPONSE, &settings);
        // llhttp_init leaves every lenient flag off; say so here, since the checks above rely on it.
        parser.lenient_flags = 0;
        parser.data = this;
        request = RequestHead();
        response = ResponseHead();
        headers = mode == Mode::Request ? &request.headers : &response.headers;
        method.clear();
        url.clear();
        reason.clear();
        body.clear();
        reserveLength = -1;
        last = LastCallback::None;
        headComplete = false;
        bodyExpected = false;
        messageComplete = false;
        started = false;
        headBytes = 0;
        check.reset();
        checkChunked = false;
        headHeaders = 0;
        trailerFields = 0;
        trailerBytes = 0;
        error = Error::None;
        errorText.clear();
    }

    int fail(Error e, const QString &text)
    {
        error = e;
        errorText = text;
        return HPE_USER;
    }

    static Private *self(llhttp_t *p) { return static_cast<Private *>(p->data); }

    static int onMessageBegin(llhttp_t *p)
    {
        self(p)->started = true;
        return 0;
    }

    static int onMethod(llhttp_t *p, const char *at, size_t len)
    {
        Private *d = self(p);
        d->method.append(at, qsizetype(len));
        return 0;
    }

    static int onUrl(llhttp_t *p, const char *at, size_t len)
    {
        Private *d = self(p);
        if (d->url.size() + qsizetype(len) > d->limits.maxUrlBytes)
            return d->fail(Error::UrlTooLong,
                           QStringLiteral("request target longer than %1 bytes").arg(d->limits.maxUrlBytes));
        d->url.append(at, qsizetype(len));
        return 0;
    }

    static int onStatus(llhttp_t *p, const char *at, size_t len)
    {
        self(p)->reason.append(at, qsizetype(len));
        return 0;
    }

    // Whether [at, at + len) lies in the buffer feed() was given (so it may be shared, not copied).
    bool inSource(const char *at, size_t len) const
    {
        return source && at >= source->constData() && at + len <= source->constData() + source->size();
    }
    QByteArray sliceOfSource(const char *at, size_t len) const
    {
        return protocol::sharedSlice(*source, qsizetype(at - source->constData()), qsizetype(len));
    }

    // Most names and values arrive in one piece: construct them (or slice the caller's buffer, see
    // Limits::shareHeadersFromBufferUpTo) rather than append to an empty array.
    void appendPiece(QByteArray &target, const char *at, size_t len) const
    {
        if (!target.isEmpty()) {
            target.append(at, qsizetype(len));
        } else if (len > 0 && limits.shareHeadersFromBufferUpTo > 0 && inSource(at, len)
                   && source->capacity() <= limits.shareHeadersFromBufferUpTo) {
            target = sliceOfSource(at, len);
        } else {
            target = QByteArray(at, qsizetype(len));
        }
    }

    // A trailer field (after a chunked body) is counted against the head's limits, so an endless
    // or numerous trailer section fails like an endless head, and then dropped: it must never
    // become a request header (a trailing Host or Transfer-Encoding would reach the service).
    int countTrailer(size_t len, bool newField)
    {
        if (newField && headHeaders + ++trailerFields > limits.maxHeaders)
            return fail(Error::TooManyHeaders,
                        QStringLiteral("more than %1 header and trailer fields").arg(limits.maxHeaders));
        trailerBytes += qsizetype(len);
        if (headBytes + trailerBytes > limits.maxHeadBytes)
            return fail(Error::HeadTooLarge,
                        QStringLiteral("head and trailers larger than %1 bytes").arg(limits.maxHeadBytes));
        return 0;
    }

    static int onHeaderField(llhttp_t *p, const char *at, size_t len)
    {
        Private *d = self(p);
        if (d->headComplete) {
            const bool newField = d->last != LastCallback::Field;
            d->last = LastCallback::Field;
            return d->countTrailer(len, newField);
        }
        if (d->last != LastCallback::Field) {
            // A new header starts: llhttp may split one name across several calls.
            if (d->headers->size() >= d->limits.maxHeaders)
                return d->fail(Error::TooManyHeaders, QStringLiteral("more than %1 headers").arg(d->limits.maxHeaders));
            if (d->headers->isEmpty()) // room for a browser's usual head at once, not 1, 2, 4, 8...
                d->headers->reserve(qMin(kUsualHeaderCount, d->limits.maxHeaders));
            d->headers->append({QByteArray(), QByteArray()});
            d->last = LastCallback::Field;
        }
        d->appendPiece(d->headers->last().first, at, len);
        return 0;
    }

    static int onHeaderValue(llhttp_t *p, const char *at, size_t len)
    {
        Private *d = self(p);
        if (d->headComplete) {
            d->last = LastCallback::Value;
            return d->countTrailer(len, false);
        }
        if (d->headers->isEmpty())
            return 0;
        d->last = LastCallback::Value;
        d->appendPiece(d->headers->last().second, at, len);
        return 0;
    }

    static int onHeadersComplete(llhttp_t *p)
    {
        Private *d = self(p);
        if (p->http_major != 1)
            return d->fail(Error::Malformed,
                           QStringLiteral("unsupported HTTP version %1.%2").arg(p->http_major).arg(p->http_minor));
        for (auto &header : *d->headers) {
            if (!isToken(header.first))
                return d->fail(Error::Malformed, QStringLiteral("invalid header name"));
            header.second = trimTrailingWhitespace(std::move(header.second));
        }

        const bool chunked = (p->flags & F_CHUNKED) != 0;
        const qint64 contentLength = (p->flags & F_CONTENT_LENGTH) ? qint64(p->content_length) : -1;
        d->headHeaders = int(d->headers->size());
        d->last = LastCallback::None;

        if (d->mode == Mode::Request) {
            RequestHead &h = d->request;
            h.method = llhttp_method_name(llhttp_method_t(p->method));
            h.target = d->url;
            RequestTargetCheck::Verdict target = RequestTargetCheck::check(h.method, d->url, d->headers,
                                                                           d->limits.maxHeaders);
            if (target.error != Error::None)
                return d->fail(target.error, target.text);
            const QByteArray &originForm = target.originForm;
            const qsizetype q = originForm.indexOf('?');
            h.path = q < 0 ? originForm : originForm.left(q);
            h.query = q < 0 ? QByteArray() : originForm.mid(q + 1);
            // Only WebSocket is an upgrade we speak. Any other (h2c from `curl --http2`, TLS/1.0) is
            // ignored as RFC 9110 7.8 allows: the request is served as plain HTTP/1.1, and llhttp
            // must not end the message at the head and hand the rest to "the new protocol".
            if (p->upgrade && p->method != HTTP_CONNECT && !headerHasToken(h.headers, "Upgrade", "websocket"))
                p->upgrade = 0;
            h.versionMajor = p->http_major;
            h.versionMinor = p->http_minor;
            h.keepAlive = llhttp_should_keep_alive(p) != 0;
            h.upgrade = p->upgrade != 0;
            h.expectContinue = headerHasToken(h.headers, "Expect", "100-continue");
            h.chunked = chunked;
            h.contentLength = contentLength;
            d->bodyExpected = p->method != HTTP_CONNECT;
            d->checkChunked = chunked && d->bodyExpected && !h.upgrade;
        } else {
            const int status = p->status_code;
            d->bodyExpected = !d->expectNoBody && status / 100 != 1 && status != 204 && status != 304;
            // Same effect as returning 1 from this callback, which we cannot do while pausing. llhttp
            // leaves this to us: it would read the body a 304 announces but never sends.
            if (!d->bodyExpected)
                p->flags |= F_SKIPBODY;
            ResponseHead &h = d->response;
            h.status = p->status_code;
            h.reason = d->reason;
            h.versionMajor = p->http_major;
            h.versionMinor = p->http_minor;
            h.keepAlive = llhttp_should_keep_alive(p) != 0;
            h.chunked = chunked;
            h.contentLength = contentLength;
        }
        // Reserved when the first body bytes must be copied (see onBody), under the limit of now.
        d->reserveLength = d->bodyExpected && contentLength > 0 && contentLength <= d->limits.maxBodyBytes
            ? contentLength
            : -1;
        d->headComplete = true;
        return HPE_PAUSED;
    }

    static int onBody(llhttp_t *p, const char *at, size_t len)
    {
        Private *d = self(p);
        if (d->body.size() + qint64(len) > d->limits.maxBodyBytes)
            return d->fail(Error::BodyTooLarge,
                           QStringLiteral("body larger than %1 bytes").arg(d->limits.maxBodyBytes));
        if (d->body.isEmpty() && d->inSource(at, len)) {
            // The first body bytes of this feed: a slice of the caller's buffer, no copy.
            d->body = d->sliceOfSource(at, len);
            return 0;
        }
        if (d->reserveLength > 0) // once per message: one allocation for a body of known length
            d->body.reserve(qsizetype(std::exchange(d->reserveLength, -1)));
        d->body.append(at, qsizetype(len));
        return 0;
    }

    static int onMessageComplete(llhttp_t *p)
    {
        self(p)->messageComplete = true;
        return HPE_PAUSED;
    }

    bool announcedBodyTooLarge()
    {
        const qint64 contentLength = mode == Mode::Request ? request.contentLength : response.contentLength;
        if (!bodyExpected || contentLength <= limits.maxBodyBytes)
            return false;
        fail(Error::BodyTooLarge,
             QStringLiteral("Content-Length %1 exceeds %2 bytes").arg(contentLength).arg(limits.maxBodyBytes));
        return true;
    }

    void failFromLlhttp(llhttp_errno_t err)
    {
        if (error != Error::None)
            return; // one of our own checks, already described
        error = Error::Malformed;
        const char *reason = llhttp_get_error_reason(&parser);
        errorText = QStringLiteral("malformed %1: %2")
                        .arg(mode == Mode::Request ? QStringLiteral("request") : QStringLiteral("response"),
                             QString::fromLatin1(reason ? reason : llhttp_errno_name(err)));
    }
};

HttpParser::HttpParser(Mode mode, const Limits &limits)
    : d(std::make_unique<Private>())
{
    d->mode = mode;
    d->limits = limits;
    d->baseMaxBodyBytes = limits.maxBodyBytes;
    llhttp_settings_init(&d->settings);
    d->settings.on_message_begin = &Private::onMessageBegin;
    d->settings.on_method = &Private::onMethod;
    d->settings.on_url = &Private::onUrl;
    d->settings.on_status = &Private::onStatus;
    d->settings.on_header_field = &Private::onHeaderField;
    d->settings.on_header_value = &Private::onHeaderValue;
    d->settings.on_headers_complete = &Private::onHeadersComplete;
    d->settings.on_body = &Private::onBody;
    d->settings.on_message_complete = &Private::onMessageComplete;
    d->init();
}

HttpParser::~HttpParser() = default;

HttpParser::Status HttpParser::feed(const QByteArray &buffer, qsizetype from, qsizetype *consumed)
{
    d->source = &buffer;
    const Status status = feed(buffer.constData() + from, buffer.size() - from, consumed);
    d->source = nullptr;
    return status;
}

HttpParser::Status HttpParser::feed(const char *data, qsizetype len, qsizetype *consumed)
{
    static const char empty[1] = {0};
    qsizetype dummy = 0;
    if (!consumed)
        consumed = &dummy;
    *consumed = 0;
    if (d->error != Error::None)
        return Status::Error;
    if (d->messageComplete)
        reset(); // the caller moved on without reset(); the next message starts here
    if (len < 0)
        len = 0;
    if (!data || len == 0)
        data = empty, len = 0;

    // The head was reported; the caller had its chance to raise the limit for this route.
    if (d->headComplete && d->announcedBodyTooLarge())
        return Status::Error;

    // While in the head, give llhttp no more than the head budget so a huge head fails early and
    // exactly, whatever the size of the buffers.
    qsizetype slice = len;
    if (!d->headComplete)
        slice = std::min(len, d->limits.maxHeadBytes - d->headBytes);

    if (llhttp_get_errno(&d->parser) == HPE_PAUSED)
        llhttp_resume(&d->parser);
    const bool wasInHead = !d->headComplete;

    // Requests: our strict reading first, then llhttp's; they must agree on where things end.
    using Check = RequestFramingCheck::Result;
    Check check = Check::NeedMore;
    qsizetype checkEnd = -1;
    const bool checking = d->mode == Mode::Request && (wasInHead || d->checkChunked);
    if (checking) {
        check = wasInHead ? d->check.scanHead(data, slice, &checkEnd) : d->check.scanChunked(data, slice, &checkEnd);
        if (check == Check::Error) {
            d->fail(Error::Malformed, QStringLiteral("malformed request: %1").arg(d->check.errorText()));
            return Status::Error;
        }
    }
    auto disagree = [this] {
        d->fail(Error::Malformed, QStringLiteral("malformed request: ambiguous framing"));
        return Status::Error;
    };

    const llhttp_errno_t err = llhttp_execute(&d->parser, data, size_t(slice));

    if (err == HPE_OK) {
        if (checking && check == Check::Done)
            return disagree(); // we saw the end, llhttp wants more
        *consumed = slice;
        if (slice > 0)
            d->started = true;
        if (wasInHead) {
            d->headBytes += slice;
            if (slice < len) {
                d->error = Error::HeadTooLarge;
                d->errorText = QStringLiteral("head larger than %1 bytes").arg(d->limits.maxHeadBytes);
                return Status::Error;
            }
        }
        return Status::NeedMore;
    }

    if (err == HPE_PAUSED || err == HPE_PAUSED_UPGRADE) {
        const char *pos = llhttp_get_error_pos(&d->parser);
        *consumed = pos ? qsizetype(pos - data) : slice;
        d->started = true;
        if (wasInHead)
            d->headBytes += *consumed; // trailers count against what is left of the head budget
        if (checking) {
            // The head ends where both say; a chunked body too (checked after the head only).
            const bool ended = wasInHead ? d->headComplete : d->messageComplete;
            if (ended && (check != Check::Done || checkEnd != *consumed))
                return disagree();
        }
        if (d->messageComplete)
            return Status::MessageComplete; // for an upgrade, the bytes after `consumed` are the new protocol
        if (wasInHead && d->headComplete)
            return Status::HeadComplete;
        // Paused for a reason of our own that we do not know: treat as malformed rather than loop.
        d->failFromLlhttp(err);
        return Status::Error;
    }

    const char *pos = llhttp_get_error_pos(&d->parser);
    *consumed = pos ? qsizetype(pos - data) : 0;
    d->failFromLlhttp(err);
    return Status::Error;
}

HttpParser::Status HttpParser::finish()
{
    if (d->error != Error::None)
        return Status::Error;
    if (d->messageComplete)
        return Status::MessageComplete;
    if (!d->started)
        return Status::NeedMore;
    if (d->headComplete && d->announcedBodyTooLarge())
        return Status::Error;
    if (llhttp_get_errno(&d->parser) == HPE_PAUSED) {
        // Paused after the head: let llhttp decide the body framing before it sees the EOF.
        static const char empty[1] = {0};
        llhttp_resume(&d->parser);
        const llhttp_errno_t err = llhttp_execute(&d->parser, empty, 0);
        if (d->messageComplete)
            return Status::MessageComplete;
        if (err != HPE_OK) {
            d->failFromLlhttp(err);
            return Status::Error;
        }
    }
    const llhttp_errno_t err = llhttp_finish(&d->parser);
    if (d->messageComplete)
        return Status::MessageComplete;
    if (err != HPE_OK) {
        d->failFromLlhttp(err);
        if (d->error == Error::Malformed)
            d->errorText = QStringLiteral("connection closed before the message was complete");
        return Status::Error;
    }
    return Status::NeedMore;
}

void HttpParser::setExpectNoBody(bool noBody)
{
    d->expectNoBody = noBody;
}

void HttpParser::setMaxBodyBytes(qint64 max)
{
    d->limits.maxBodyBytes = max;
}

const RequestHead &HttpParser::requestHead() const
{
    return d->request;
}

const ResponseHead &HttpParser::responseHead() const
{
    return d->response;
}

const QByteArray &HttpParser::body() const
{
    return d->body;
}

QByteArray HttpParser::takeBody()
{
    return std::exchange(d->body, QByteArray());
}

HttpParser::Error HttpParser::error() const
{
    return d->error;
}

QString HttpParser::errorText() const
{
    return d->errorText;
}

bool HttpParser::inMessage() const
{
    return d->started && !d->messageComplete;
}

void HttpParser::reset()
{
    // A body limit raised for one route applies to that message only; expectNoBody stays as set.
    d->limits.maxBodyBytes = d->baseMaxBodyBytes;
    d->init();
}

} // namespace keyhole::http
