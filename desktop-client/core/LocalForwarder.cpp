#include "LocalForwarder.h"

#include "http/HeaderRules.h"
#include "http/HttpSyntax.h"
#include "protocol/Addressing.h"
#include "util/LogSafe.h"
#include "http/HttpWriter.h"
#include "ClientLogging.h"

#include <QDateTime>
#include <QMetaObject>

namespace keyhole::client {

namespace {

using http::isSafeHeaderValue;
using http::isSafeTarget;
using http::isToken;

QByteArray printable(const QByteArray &value)
{
    return util::logSafe(value);
}

// Methods that normally carry no body get no "Content-Length: 0" either.
bool methodUsuallyHasBody(const QByteArray &method)
{
    return method != "GET" && method != "HEAD" && method != "DELETE" && method != "OPTIONS" && method != "TRACE"
        && method != "CONNECT";
}

// RFC 9110 9.2.2: repeating these has the effect of sending them once.
bool isIdempotent(const QByteArray &method)
{
    return method == "GET" || method == "HEAD" || method == "OPTIONS" || method == "PUT" || method == "DELETE"
        || method == "TRACE";
}

} // namespace

LocalForwarder::LocalForwarder(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    m_options.maxConcurrent = qMax(1, m_options.maxConcurrent);
    m_options.maxQueued = qMax(0, m_options.maxQueued);
}

LocalForwarder::~LocalForwarder()
{
    cancelAll();
}

void LocalForwarder::setLimits(qint64 maxResponseBodyBytes, int timeoutMs)
{
    if (maxResponseBodyBytes > 0)
        m_options.maxResponseBodyBytes = maxResponseBodyBytes;
    if (timeoutMs > 0)
        m_options.timeoutMs = timeoutMs;
}

int LocalForwarder::runningCount() const
{
    return m_running.size();
}

QString LocalForwarder::targetAuthority() const
{
    return protocol::hostAndPort(m_options.target);
}

void LocalForwarder::forward(const protocol::HttpRequest &request, Callback done)
{
    Job job;
    job.request = request;
    job.done = std::move(done);
    job.elapsed.start();
    job.record.id = request.id;
    job.record.method = request.method;
    job.record.path = request.path;
    job.record.query = request.query;
    job.record.remoteAddress = request.remoteAddress;
    job.record.startedAt = QDateTime::currentDateTimeUtc();
    job.record.bytesIn = request.body.size();
    job.record.requestBodyPreview = request.body.left(RequestRecord::kPreviewBytes);

    const bool valid = isToken(request.method) && isSafeTarget(request.path) && isSafeTarget(request.query)
        && (request.path.isEmpty() || request.path.startsWith('/') || request.path == "*");
    bool headersValid = true;
    for (const auto &header : request.headers) {
        if (!isToken(header.first) || !isSafeHeaderValue(header.second))
            headersValid = false;
    }

    // Answers that need no connection still arrive through the event loop, as promised.
    auto later = [this](Job job, int status, QString message) {
        auto shared = std::make_shared<Job>(std::move(job));
        QMetaObject::invokeMethod(
            this, [this, shared, status, message] { completeWithError(std::move(*shared), status, message); },
            Qt::QueuedConnection);
    };
    if (!valid || !headersValid) {
        later(std::move(job), 400, QStringLiteral("keyhole: the request cannot be passed on to the local service"));
        return;
    }
    prepare(job);
    // Requests not yet dispatched to a free connection do not count against the queue bound.
    const int freeSlots = qMax(0, m_options.maxConcurrent - runningCount());
    if (static_cast<int>(m_queue.size()) >= m_options.maxQueued + freeSlots) {
        later(std::move(job), 503, QStringLiteral("keyhole: too many requests are waiting for the local service"));
        return;
    }
    m_queue.push_back(std::move(job));
    // Dispatch from the event loop too: forward() may be called from inside a callback.
    QMetaObject::invokeMethod(this, &LocalForwarder::dispatch, Qt::QueuedConnection);
}

void LocalForwarder::prepare(Job &job) const
{
    const protocol::HttpRequest &request = job.request;
    protocol::HeaderList headers = request.headers;
    http::removeHopByHop(headers);
    http::removeHeader(headers, "Transfer-Encoding");
    http::removeHeader(headers, "Content-Length");
    // The whole body is here already; the service must not wait for a go-ahead.
    http::removeHeader(headers, "Expect");

    const QString &hostMode = m_options.hostHeader;
    if (hostMode == QLatin1String("rewrite")) {
        http::removeHeader(headers, "Host");
        headers.prepend({QByteArrayLiteral("Host"), targetAuthority().toUtf8()});
    } else if (!hostMode.isEmpty()) {
        http::removeHeader(headers, "Host");
        headers.prepend({QByteArrayLiteral("Host"), hostMode.toUtf8()});
    } else if (!http::hasHeader(headers, "Host")) {
        headers.prepend({QByteArrayLiteral("Host"), targetAuthority().toUtf8()});
    }
    if (!request.body.isEmpty() || methodUsuallyHasBody(request.method))
        headers.append({QByteArrayLiteral("Content-Length"), QByteArray::number(request.body.size())});

    QByteArray target = request.path.isEmpty() ? QByteArrayLiteral("/") : request.path;
    if (!request.query.isEmpty())
        target += '?' + request.query;

    job.wire = http::requestHead(request.method, target, headers) + request.body;
    job.record.requestHeaders = headers;
}

void LocalForwarder::dispatch()
{
    while (!m_queue.empty()) {
        LocalConnection *connection = nullptr;
        for (LocalConnection *candidate : std::as_const(m_connections)) {
            if (candidate->isIdle()) {
                connection = candidate;
                break;
            }
        }
        if (!connection) {
            if (m_connections.size() >= m_options.maxConcurrent)
                return; // all busy; onFinished() dispatches again
            connection = newConnection();
        }
        Job job = std::move(m_queue.front());
        m_queue.pop_front();
        startOn(connection, std::move(job));
    }
}

void LocalForwarder::startOn(LocalConnection *connection, Job job)
{
    const qint64 remaining = m_options.timeoutMs - job.elapsed.elapsed();
    if (remaining <= 0) {
        completeWithError(std::move(job), 504,
                          QStringLiteral("keyhole: the local service at %1 did not answer in time")
                              .arg(targetAuthority()));
        return;
    }
    const bool noBody = job.request.method == "HEAD";
    const QByteArray wire = job.wire;
    m_running.insert(connection, std::move(job));
    connection->start(wire, noBody, m_options.maxResponseBodyBytes, static_cast<int>(remaining));
}

LocalConnection *LocalForwarder::newConnection()
{
    auto *connection = new LocalConnection(m_options.target, m_options.extraCaCertificates, this);
    connect(connection, &LocalConnection::finished, this,
            [this, connection](const LocalConnection::Outcome &outcome) { onFinished(connection, outcome); });
    connect(connection, &LocalConnection::closed, this, [this, connection] { dropConnection(connection); });
    m_connections.append(connection);
    return connection;
}

void LocalForwarder::dropConnection(LocalConnection *connection)
{
    if (!m_connections.removeOne(connection))
        return;
    m_running.remove(connection);
    connection->disconnect(this);
    connection->abandon();
    connection->deleteLater();
}

void LocalForwarder::onFinished(LocalConnection *connection, const LocalConnection::Outcome &outcome)
{
    auto it = m_running.find(connection);
    if (it == m_running.end())
        return;
    Job job = std::move(*it);
    m_running.erase(it);
    if (connection->isDead())
        dropConnection(connection);

    const QString where = targetAuthority();
    switch (outcome.failure) {
    case LocalConnection::Failure::None: {
        protocol::HttpResponse response;
        response.id = job.request.id;
        response.status = outcome.head.status;
        response.headers = outcome.head.headers;
        http::removeHopByHop(response.headers);
        // The proxy frames the body it sends; only a HEAD answer keeps the length the service announced.
        if (job.request.method != "HEAD")
            http::removeHeader(response.headers, "Content-Length");
        response.body = outcome.body;
        complete(std::move(job), std::move(response), QString());
        break;
    }
    case LocalConnection::Failure::StaleClosed:
        // The service may have closed because it was done with the connection, or after reading the
        // request: sending it again is only safe if it was never handed over or repeating it is harmless.
        if (!job.retried && (!outcome.requestWritten || isIdempotent(job.request.method))) {
            qCDebug(lcForwarder, "kept-alive connection to %s was stale; retrying %s", qPrintable(where),
                    printable(job.request.id).constData());
            job.retried = true;
            // The stale connection is gone, so a fresh one stays within maxConcurrent.
            startOn(newConnection(), std::move(job));
            break;
        }
        completeWithError(std::move(job), 502,
                          QStringLiteral("keyhole: the local service at %1 closed the connection").arg(where));
        break;
    case LocalConnection::Failure::Refused:
        completeWithError(std::move(job), 502,
                          QStringLiteral("keyhole: the local service at %1 refused the connection").arg(where));
        break;
    case LocalConnection::Failure::ConnectFailed:
        completeWithError(std::move(job), 502,
                          QStringLiteral("keyhole: could not connect to the local service at %1: %2")
                              .arg(where, outcome.errorText));
        break;
    case LocalConnection::Failure::Timeout:
        completeWithError(std::move(job), 504,
                          QStringLiteral("keyhole: the local service at %1 did not answer within %2 s")
                              .arg(where)
                              .arg(m_options.timeoutMs / 1000.0, 0, 'g', 3));
        break;
    case LocalConnection::Failure::TooLarge:
        completeWithError(std::move(job), 502,
                          QStringLiteral("keyhole: the response of the local service is larger than the "
                                         "proxy's limit of %1 bytes")
                              .arg(m_options.maxResponseBodyBytes));
        break;
    case LocalConnection::Failure::Malformed:
        completeWithError(std::move(job), 502,
                          QStringLiteral("keyhole: the local service at %1 sent an invalid response: %2")
                              .arg(where, outcome.errorText));
        break;
    case LocalConnection::Failure::ClosedEarly:
        completeWithError(std::move(job), 502,
                          QStringLiteral("keyhole: the local service at %1 closed the connection without "
                                         "a complete response")
                              .arg(where));
        break;
    }
    dispatch();
}

void LocalForwarder::completeWithError(Job job, int status, const QString &message)
{
    qCInfo(lcForwarder, "%s %s: %d %s", printable(job.request.method).constData(),
           printable(job.request.path).constData(), status, qPrintable(message));
    protocol::HttpResponse response;
    response.id = job.request.id;
    response.status = status;
    response.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; charset=utf-8")}};
    response.body = message.toUtf8() + '\n';
    complete(std::move(job), std::move(response), message);
}

void LocalForwarder::complete(Job job, protocol::HttpResponse response, const QString &error)
{
    RequestRecord &record = job.record;
    record.durationMs = job.elapsed.elapsed();
    record.status = response.status;
    record.bytesOut = response.body.size();
    record.responseHeaders = response.headers;
    record.responseBodyPreview = response.body.left(RequestRecord::kPreviewBytes);
    record.error = error;
    if (job.done)
        job.done(response, record);
}

void LocalForwarder::cancelAll()
{
    m_queue.clear();
    m_running.clear();
    const QList<LocalConnection *> connections = m_connections;
    m_connections.clear();
    for (LocalConnection *connection : connections) {
        connection->disconnect(this);
        connection->abandon();
        connection->deleteLater();
    }
}

} // namespace keyhole::client
