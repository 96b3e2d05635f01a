#include "http/HttpWriter.h"

#include "http/HttpSyntax.h"

#include "http/HttpLogging.h"

#include <cstring>

namespace keyhole::http {

namespace {

bool isSafeHeader(const QByteArray &name, const QByteArray &value)
{
    if (!isToken(name))
        return false;
    for (char c : value) {
        if (c == '\r' || c == '\n' || c == '\0')
            return false;
    }
    return true;
}

qsizetype headersSize(const HeaderList &headers)
{
    qsizetype size = 2;
    for (const auto &header : headers)
        size += header.first.size() + header.second.size() + 4;
    return size;
}

// Copies into a buffer sized once up front: a head is a few dozen small pieces, and
// QByteArray::append's bookkeeping per piece cost more than the copying.
class HeadBuilder
{
public:
    explicit HeadBuilder(qsizetype capacity)
        : m_out(capacity, Qt::Uninitialized)
        , m_pos(m_out.data())
    {
    }
    void add(const char *data, qsizetype size)
    {
        std::memcpy(m_pos, data, size_t(size));
        m_pos += size;
    }
    void add(const QByteArray &bytes) { add(bytes.constData(), bytes.size()); }
    template <qsizetype N> void add(const char (&literal)[N]) { add(literal, N - 1); }
    void add(char c) { *m_pos++ = c; }

    void addHeaders(const HeaderList &headers)
    {
        for (const auto &header : headers) {
            // Headers come from the other side of the tunnel: drop, never forward, one that would
            // split the message.
            if (!isSafeHeader(header.first, header.second)) {
                qCDebug(lcHttp) << "dropping invalid header" << header.first.left(64);
                continue;
            }
            add(header.first);
            add(": ");
            add(header.second);
            add("\r\n");
        }
        add("\r\n");
    }
    QByteArray take()
    {
        m_out.truncate(m_pos - m_out.constData()); // dropped headers leave room unused
        return std::move(m_out);
    }

private:
    QByteArray m_out;
    char *m_pos;
};

} // namespace

QByteArray reasonPhrase(int status)
{
    switch (status) {
    case 100:
        return QByteArrayLiteral("Continue");
    case 101:
        return QByteArrayLiteral("Switching Protocols");
    case 102:
        return QByteArrayLiteral("Processing");
    case 103:
        return QByteArrayLiteral("Early Hints");
    case 200:
        return QByteArrayLiteral("OK");
    case 201:
        return QByteArrayLiteral("Created");
    case 202:
        return QByteArrayLiteral("Accepted");
    case 203:
        return QByteArrayLiteral("Non-Authoritative Information");
    case 204:
        return QByteArrayLiteral("No Content");
    case 205:
        return QByteArrayLiteral("Reset Content");
    case 206:
        return QByteArrayLiteral("Partial Content");
    case 207:
        return QByteArrayLiteral("Multi-Status");
    case 208:
        return QByteArrayLiteral("Already Reported");
    case 226:
        return QByteArrayLiteral("IM Used");
    case 300:
        return QByteArrayLiteral("Multiple Choices");
    case 301:
        return QByteArrayLiteral("Moved Permanently");
    case 302:
        return QByteArrayLiteral("Found");
    case 303:
        return QByteArrayLiteral("See Other");
    case 304:
        return QByteArrayLiteral("Not Modified");
    case 305:
        return QByteArrayLiteral("Use Proxy");
    case 307:
        return QByteArrayLiteral("Temporary Redirect");
    case 308:
        return QByteArrayLiteral("Permanent Redirect");
    case 400:
        return QByteArrayLiteral("Bad Request");
    case 401:
        return QByteArrayLiteral("Unauthorized");
    case 402:
        return QByteArrayLiteral("Payment Required");
    case 403:
        return QByteArrayLiteral("Forbidden");
    case 404:
        return QByteArrayLiteral("Not Found");
    case 405:
        return QByteArrayLiteral("Method Not Allowed");
    case 406:
        return QByteArrayLiteral("Not Acceptable");
    case 407:
        return QByteArrayLiteral("Proxy Authentication Required");
    case 408:
        return QByteArrayLiteral("Request Timeout");
    case 409:
        return QByteArrayLiteral("Conflict");
    case 410:
        return QByteArrayLiteral("Gone");
    case 411:
        return QByteArrayLiteral("Length Required");
    case 412:
        return QByteArrayLiteral("Precondition Failed");
    case 413:
        return QByteArrayLiteral("Content Too Large");
    case 414:
        return QByteArrayLiteral("URI Too Long");
    case 415:
        return QByteArrayLiteral("Unsupported Media Type");
    case 416:
        return QByteArrayLiteral("Range Not Satisfiable");
    case 417:
        return QByteArrayLiteral("Expectation Failed");
    case 418:
        return QByteArrayLiteral("I'm a teapot");
    case 421:
        return QByteArrayLiteral("Misdirected Request");
    case 422:
        return QByteArrayLiteral("Unprocessable Content");
    case 423:
        return QByteArrayLiteral("Locked");
    case 424:
        return QByteArrayLiteral("Failed Dependency");
    case 425:
        return QByteArrayLiteral("Too Early");
    case 426:
        return QByteArrayLiteral("Upgrade Required");
    case 428:
        return QByteArrayLiteral("Precondition Required");
    case 429:
        return QByteArrayLiteral("Too Many Requests");
    case 431:
        return QByteArrayLiteral("Request Header Fields Too Large");
    case 451:
        return QByteArrayLiteral("Unavailable For Legal Reasons");
    case 500:
        return QByteArrayLiteral("Internal Server Error");
    case 501:
        return QByteArrayLiteral("Not Implemented");
    case 502:
        return QByteArrayLiteral("Bad Gateway");
    case 503:
        return QByteArrayLiteral("Service Unavailable");
    case 504:
        return QByteArrayLiteral("Gateway Timeout");
    case 505:
        return QByteArrayLiteral("HTTP Version Not Supported");
    case 506:
        return QByteArrayLiteral("Variant Also Negotiates");
    case 507:
        return QByteArrayLiteral("Insufficient Storage");
    case 508:
        return QByteArrayLiteral("Loop Detected");
    case 510:
        return QByteArrayLiteral("Not Extended");
    case 511:
        return QByteArrayLiteral("Network Authentication Required");
    default:
        return QByteArrayLiteral("Unknown");
    }
}

QByteArray responseHead(int status, const HeaderList &headers)
{
    const QByteArray reason = reasonPhrase(status);
    const QByteArray code = QByteArray::number(status);
    HeadBuilder out(12 + code.size() + reason.size() + headersSize(headers));
    out.add("HTTP/1.1 ");
    out.add(code);
    out.add(' ');
    out.add(reason);
    out.add("\r\n");
    out.addHeaders(headers);
    return out.take();
}

QByteArray requestHead(const QByteArray &method, const QByteArray &target, const HeaderList &headers)
{
    HeadBuilder out(method.size() + target.size() + 12 + headersSize(headers));
    out.add(method);
    out.add(' ');
    out.add(target);
    out.add(" HTTP/1.1\r\n");
    out.addHeaders(headers);
    return out.take();
}

bool responseHasNoBody(const QByteArray &requestMethod, int status)
{
    return requestMethod == "HEAD" || (status >= 100 && status < 200) || status == 204 || status == 304;
}

} // namespace keyhole::http
