#include "LocalExchange.h"

#include "ClientLogging.h"
#include "http/HeaderRules.h"
#include "protocol/SharedSlice.h"
#include "util/LogSafe.h"

#include <QTimerEvent>

namespace keyhole::client {

namespace {

// RFC 9110 9.2.2: repeating these has the effect of sending them once.
bool isIdempotent(const QByteArray &method)
{
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE"
        || method == "TRACE";
}

void appendPreview(QByteArray &preview, bool &truncated, const QByteArray &data)
{
    const qsizetype room = RequestRecord::kPreviewBytes - preview.size();
    if (data.size() > room)
        truncated = true;
    if (room <= 0 || data.isEmpty())
        return;
    // The first bytes of a body share its buffer instead of copying them, as long as that holds at
    // most twice the preview's size alive (the allocation, not the bytes in use: the records of a
    // long log must not each keep a read buffer): a copy per request costs more than the rest of
    // the record together.
    if (preview.isEmpty() && data.capacity() <= 2 * RequestRecord::kPreviewBytes) {
        preview = data.size() <= room ? data : protocol::sharedSlice(data, 0, room);
        return;
    }
    preview.append(data.constData(), qMin(room, data.size())); // a copy, never a share of data
}

QByteArray chunk(const QByteArray &data)
{
    if (data.isEmpty())
        return {}; // an empty chunk would end the body
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

} // namespace

LocalExchange::LocalExchange(const protocol::HttpRequest &request, const QByteArray &head, Framing framing,
                             qint64 declaredLength, Mode mode, const Settings &settings, RequestRecord record,
                             QObject *parent)
    : QObject(parent)
    , m_id(request.id)
    , m_method(request.method)
    , m_mode(mode)
    , m_settings(settings)
    , m_record(std::move(record))
    , m_requestStreamed(request.streamed)
    , m_framing(framing)
    , m_declaredLength(declaredLength)
{
    m_elapsed.start();
    m_timer.start(qMax(1, m_settings.headTimeoutMs), this);

    m_initialWire = head;
    m_requestEnded = !m_requestStreamed;
    m_firstBody = request.body;
}

void LocalExchange::begin()
{
    const QByteArray first = std::exchange(m_firstBody, QByteArray());
    if (m_requestStreamed) {
        deliverBody(protocol::HttpBody{m_id, first, false});
        return;
    }
    m_requestReceived = first.size();
    m_record.bytesIn = first.size();
    appendPreview(m_record.requestBodyPreview, m_record.requestBodyTruncated, first);
    m_initialWire += first;
    m_initialBodyBytes = first.size();
}

LocalExchange::~LocalExchange()
{
    detach(true);
}

bool LocalExchange::canRetry(const LocalConnection::Outcome &outcome) const
{
    // The service may have closed because it was done with the connection, or after reading the
    // request: sending it again is only safe if it was never handed over or repeating it is harmless.
    // Bytes that are not a response on a reused connection are most likely the rest of an earlier
    // answer, not this one's: a fresh connection has none.
    const bool stale = outcome.failure == LocalConnection::Failure::StaleClosed
        || outcome.failure == LocalConnection::Failure::StaleGarbled;
    return stale && !m_done && !m_retried && !m_wroteAfterStart && !m_headReceived
        && (!outcome.requestWritten || isIdempotent(m_method));
}

void LocalExchange::attach(LocalConnection *connection)
{
    if (m_done)
        return;
    if (m_connection) {
        detach(true);
        m_retried = true;
    }
    m_connection = connection;
    m_requestWritten = 0; // a retry writes the first bytes again; they were credited once already
    connect(connection, &LocalConnection::headReceived, this, &LocalExchange::onHead);
    connect(connection, &LocalConnection::bodyReceived, this, &LocalExchange::onBody);
    connect(connection, &LocalConnection::requestBodyWritten, this, &LocalExchange::onRequestBodyWritten);
    connection->start(m_initialWire, m_initialBodyBytes, m_requestEnded, m_method == "HEAD");
}

void LocalExchange::deliverBody(const protocol::HttpBody &body)
{
    if (m_done)
        return;
    if (!m_requestStreamed || m_requestEnded) {
        fail(502, QStringLiteral("keyhole: the proxy sent request body after its end"));
        return;
    }
    m_requestReceived += body.data.size();
    m_record.bytesIn = m_requestReceived;
    appendPreview(m_record.requestBodyPreview, m_record.requestBodyTruncated, body.data);
    if (m_requestReceived - m_requestCredited > protocol::kStreamWindowBytes) {
        fail(502, QStringLiteral("keyhole: the proxy sent more request body than the window allows"));
        return;
    }
    if (m_settings.maxRequestBodyBytes > 0 && m_requestReceived > m_settings.maxRequestBodyBytes) {
        fail(413,
             QStringLiteral("keyhole: the request body is larger than the proxy's limit of %1 bytes")
                 .arg(m_settings.maxRequestBodyBytes));
        return;
    }
    if (m_framing == Framing::Length && m_requestReceived > m_declaredLength) {
        fail(502, QStringLiteral("keyhole: the request body is longer than its Content-Length"));
        return;
    }
    QByteArray framed = m_framing == Framing::Chunked ? chunk(body.data) : body.data;
    if (body.end) {
        m_requestEnded = true;
        if (m_framing == Framing::Chunked)
            framed += "0\r\n\r\n";
        else if (m_requestReceived != m_declaredLength) {
            fail(502, QStringLiteral("keyhole: the request body is shorter than its Content-Length"));
            return;
        }
    }
    passOn(framed, body.data.size());
    touch();
}

void LocalExchange::passOn(const QByteArray &framed, qint64 bodyBytes)
{
    if (!m_connection) {
        m_initialWire += framed;
        m_initialBodyBytes += bodyBytes;
        return;
    }
    m_wroteAfterStart = true;
    m_initialWire.clear(); // no retry any more
    m_connection->write(framed, bodyBytes, m_requestEnded);
}

void LocalExchange::onRequestBodyWritten(qint64 bytes)
{
    if (m_done || !m_requestStreamed)
        return;
    m_requestWritten += bytes;
    const qint64 grant = m_requestWritten - m_requestCredited;
    // Batched: a window's worth of small credits would be a message per chunk.
    if (grant > 0 && (grant >= protocol::kBodyChunkBytes || m_requestWritten >= m_requestReceived)) {
        m_requestCredited += grant;
        Q_EMIT messageForProxy(protocol::HttpCredit{m_id, grant});
    }
    touch();
}

void LocalExchange::grantCredit(qint64 bytes)
{
    if (m_done || m_mode != Mode::Stream)
        return;
    m_inFlight -= qBound<qint64>(0, bytes, m_inFlight);
    touch();
    flush();
}

void LocalExchange::cancel(const QString &reason)
{
    if (m_done)
        return;
    qCDebug(lcForwarder, "%s cancelled by the proxy: %s", util::logSafe(m_id).constData(), qPrintable(reason));
    detach(true);
    finish(QStringLiteral("cancelled by the proxy: %1").arg(reason));
}

void LocalExchange::onHead(const http::ResponseHead &head, const QByteArray &body, bool complete)
{
    if (m_done)
        return;
    m_headReceived = true;
    const bool hasBody = m_method != "HEAD" && head.status != 204 && head.status != 304;
    if (hasBody && m_settings.maxResponseBodyBytes > 0 && head.contentLength > m_settings.maxResponseBodyBytes) {
        fail(502,
             QStringLiteral("keyhole: the response of the local service is larger than the proxy's limit of "
                            "%1 bytes")
                 .arg(m_settings.maxResponseBodyBytes));
        return;
    }
    m_response.id = m_id;
    m_response.status = head.status;
    m_response.headers = head.headers;
    http::removeHopByHop(m_response.headers);
    // The proxy frames the body again: it keeps a length the service announced, never a chunked one's.
    if (head.chunked || (head.contentLength < 0 && hasBody))
        http::removeHeader(m_response.headers, "Content-Length");
    m_record.status = head.status;
    m_record.responseHeaders = m_response.headers;
    touch();
    if (complete)
        detach(false); // the connection finishes the exchange itself (idle or closed)
    if (!countResponse(body))
        return;
    m_responseEnded = complete;
    if (m_mode == Mode::Collect) {
        m_response.body = body;
        if (complete) {
            Q_EMIT messageForProxy(m_response);
            finish(QString());
        }
        return;
    }
    if (complete && body.size() <= protocol::kInlineBodyBytes) {
        m_response.body = body;
        Q_EMIT messageForProxy(m_response);
        finish(QString());
        return;
    }
    m_response.streamed = true;
    m_headSent = true;
    Q_EMIT messageForProxy(m_response);
    m_pending = body;
    flush();
}

void LocalExchange::onBody(const QByteArray &data, bool complete)
{
    if (m_done)
        return;
    touch();
    if (complete)
        detach(false);
    if (!countResponse(data))
        return;
    m_responseEnded = complete;
    if (m_mode == Mode::Collect) {
        m_response.body += data;
        if (complete) {
            Q_EMIT messageForProxy(m_response);
            finish(QString());
        }
        return;
    }
    m_pending += data;
    flush();
}

bool LocalExchange::countResponse(const QByteArray &data)
{
    m_responseBytes += data.size();
    m_record.bytesOut = m_responseBytes;
    appendPreview(m_record.responseBodyPreview, m_record.responseBodyTruncated, data);
    if (m_settings.maxResponseBodyBytes > 0 && m_responseBytes > m_settings.maxResponseBodyBytes) {
        fail(502,
             QStringLiteral("keyhole: the response of the local service is larger than the proxy's limit of "
                            "%1 bytes")
                 .arg(m_settings.maxResponseBodyBytes));
        return false;
    }
    if (m_mode == Mode::Collect && m_settings.maxCollectedBytes > 0 && m_responseBytes > m_settings.maxCollectedBytes) {
        fail(502,
             QStringLiteral("keyhole: the response of the local service is larger than %1 bytes")
                 .arg(m_settings.maxCollectedBytes));
        return false;
    }
    return true;
}

// Sends what the service wrote as far as the proxy's credit goes, at once: a server-sent event is
// not held back to fill a chunk. Without credit, reading the service's socket pauses.
void LocalExchange::flush()
{
    while (!m_done) {
        if (m_pending.isEmpty()) {
            if (!m_responseEnded)
                break;
            Q_EMIT messageForProxy(protocol::HttpBody{m_id, QByteArray(), true});
            finish(QString());
            return;
        }
        const qint64 room = protocol::kStreamWindowBytes - m_inFlight;
        if (room <= 0)
            break;
        const qsizetype n = qsizetype(qMin(qMin(qint64(m_pending.size()), protocol::kBodyChunkBytes), room));
        protocol::HttpBody body;
        body.id = m_id;
        body.data = n == m_pending.size() ? std::exchange(m_pending, QByteArray()) : m_pending.left(n);
        if (!m_pending.isEmpty())
            m_pending.remove(0, n);
        body.end = m_responseEnded && m_pending.isEmpty();
        m_inFlight += n;
        Q_EMIT messageForProxy(body);
        if (body.end) {
            finish(QString());
            return;
        }
    }
    if (m_connection)
        m_connection->setReadPaused(!m_pending.isEmpty() || m_inFlight >= protocol::kStreamWindowBytes);
}

void LocalExchange::connectionFinished(const LocalConnection::Outcome &outcome)
{
    if (m_done || outcome.failure == LocalConnection::Failure::None)
        return;
    m_connection = nullptr; // it is dead and reported
    const QString &where = m_settings.authority;
    switch (outcome.failure) {
    case LocalConnection::Failure::None:
        break;
    case LocalConnection::Failure::StaleClosed:
        fail(502, QStringLiteral("keyhole: the local service at %1 closed the connection").arg(where));
        break;
    case LocalConnection::Failure::Refused:
        m_record.serviceUnreachable = true;
        fail(502, QStringLiteral("keyhole: the local service at %1 refused the connection").arg(where));
        break;
    case LocalConnection::Failure::ConnectFailed:
        m_record.serviceUnreachable = true;
        fail(502,
             QStringLiteral("keyhole: could not connect to the local service at %1: %2").arg(where, outcome.errorText));
        break;
    case LocalConnection::Failure::Malformed:
    case LocalConnection::Failure::StaleGarbled:
        fail(502,
             QStringLiteral("keyhole: the local service at %1 sent an invalid response: %2")
                 .arg(where, outcome.errorText));
        break;
    case LocalConnection::Failure::ClosedEarly:
        fail(502,
             QStringLiteral("keyhole: the local service at %1 closed the connection without a complete "
                            "response")
                 .arg(where));
        break;
    }
}

void LocalExchange::failWith(int status, const QString &message)
{
    fail(status, message);
}

void LocalExchange::timerEvent(QTimerEvent *event)
{
    if (event->timerId() != m_timer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    m_timer.stop(); // one-shot
    onTimer();
}

void LocalExchange::onTimer()
{
    if (m_done)
        return;
    if (!m_headReceived) {
        m_record.serviceUnreachable = true;
        fail(504,
             QStringLiteral("keyhole: the local service at %1 did not answer within %2 s")
                 .arg(m_settings.authority)
                 .arg(m_settings.headTimeoutMs / 1000.0, 0, 'g', 3));
        return;
    }
    fail(502,
         QStringLiteral("keyhole: the body of the exchange with the local service at %1 moved no byte for %2 s")
             .arg(m_settings.authority)
             .arg(m_settings.bodyIdleTimeoutMs / 1000.0, 0, 'g', 3));
}

// Before the head went out the visitor gets an error page; after, the proxy cuts the visitor off.
void LocalExchange::fail(int status, const QString &message)
{
    if (m_done)
        return;
    qCInfo(lcForwarder, "%s %s: %d %s", util::logSafe(m_method).constData(), util::logSafe(m_record.path).constData(),
           status, qPrintable(message));
    detach(true);
    m_pending.clear();
    if (m_headSent) {
        Q_EMIT messageForProxy(protocol::HttpCancel{m_id, message});
    } else {
        protocol::HttpResponse response;
        response.id = m_id;
        response.status = status;
        response.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; charset=utf-8")}};
        response.body = message.toUtf8() + '\n';
        m_record.status = status;
        m_record.responseHeaders = response.headers;
        m_record.bytesOut = response.body.size();
        m_record.responseBodyPreview = response.body;
        m_record.responseBodyTruncated = false;
        Q_EMIT messageForProxy(response);
    }
    finish(message);
}

void LocalExchange::finish(const QString &error)
{
    if (m_done)
        return;
    m_done = true;
    m_timer.stop();
    m_pending.clear();
    m_initialWire.clear();
    m_record.durationMs = m_elapsed.elapsed();
    m_record.error = error;
    Q_EMIT finished(m_record);
}

void LocalExchange::detach(bool abandon)
{
    LocalConnection *connection = m_connection;
    m_connection = nullptr;
    if (!connection)
        return;
    connection->disconnect(this);
    if (abandon)
        connection->abandon();
}

void LocalExchange::touch()
{
    if (m_done)
        return;
    if (!m_headReceived) {
        // A request body that keeps flowing is not cut by the wait for the head.
        if (m_requestStreamed)
            m_timer.start(qMax(1, m_settings.headTimeoutMs), this);
        return;
    }
    m_timer.start(qMax(1, m_settings.bodyIdleTimeoutMs), this);
}

} // namespace keyhole::client
