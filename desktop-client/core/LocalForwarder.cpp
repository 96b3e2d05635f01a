#include "LocalForwarder.h"

#include "ClientLogging.h"
#include "http/HeaderRules.h"
#include "http/HttpSyntax.h"
#include "http/HttpWriter.h"
#include "protocol/Addressing.h"
#include "util/LogSafe.h"

#include <QDateTime>
#include <QMetaObject>

#include <memory>

namespace keyhole::client {

namespace {

using http::isSafeHeaderValue;
using http::isSafeTarget;
using http::isToken;

// Methods that normally carry no body get no "Content-Length: 0" either.
bool methodUsuallyHasBody(const QByteArray &method)
{
    return method != "GET" && method != "HEAD" && method != "DELETE" && method != "OPTIONS" && method != "TRACE"
        && method != "CONNECT";
}

// The visitor's Content-Length of a streamed request; -1 when absent or not a plain number.
qint64 declaredLength(const protocol::HeaderList &headers)
{
    const QByteArray value = http::headerValue(headers, "Content-Length").trimmed();
    if (value.isEmpty() || value.size() > 18)
        return -1;
    for (char c : value) {
        if (c < '0' || c > '9')
            return -1;
    }
    return value.toLongLong();
}

bool isValid(const protocol::HttpRequest &request)
{
    if (!isToken(request.method) || !isSafeTarget(request.path) || !isSafeTarget(request.query)
        || !(request.path.isEmpty() || request.path.startsWith('/') || request.path == "*"))
        return false;
    for (const auto &header : request.headers) {
        if (!isToken(header.first) || !isSafeHeaderValue(header.second))
            return false;
    }
    return true;
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

void LocalForwarder::setLimits(qint64 maxRequestBodyBytes, qint64 maxResponseBodyBytes, int timeoutMs)
{
    m_options.maxRequestBodyBytes = qMax<qint64>(0, maxRequestBodyBytes);
    m_options.maxResponseBodyBytes = qMax<qint64>(0, maxResponseBodyBytes);
    if (timeoutMs > 0)
        m_options.timeoutMs = timeoutMs;
}

QString LocalForwarder::targetAuthority() const
{
    return protocol::hostAndPort(m_options.target);
}

LocalExchange *LocalForwarder::create(const protocol::HttpRequest &request, LocalExchange::Mode mode)
{
    RequestRecord record;
    record.id = request.id;
    record.method = request.method;
    record.path = request.path;
    record.query = request.query;
    record.remoteAddress = request.remoteAddress;
    record.startedAt = QDateTime::currentDateTimeUtc();

    protocol::HeaderList headers = request.headers;
    http::removeHopByHop(headers);
    http::removeHeader(headers, "Transfer-Encoding");
    http::removeHeader(headers, "Content-Length");
    // The body goes out as it comes, so the service must not wait for a go-ahead; a 100 Continue
    // it sends anyway is skipped like every interim response.
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
    LocalExchange::Framing framing = LocalExchange::Framing::Length;
    qint64 length = request.body.size();
    if (request.streamed) {
        length = declaredLength(request.headers);
        if (length >= 0) {
            headers.append({QByteArrayLiteral("Content-Length"), QByteArray::number(length)});
        } else {
            framing = LocalExchange::Framing::Chunked;
            headers.append({QByteArrayLiteral("Transfer-Encoding"), QByteArrayLiteral("chunked")});
        }
    } else if (!request.body.isEmpty() || methodUsuallyHasBody(request.method)) {
        headers.append({QByteArrayLiteral("Content-Length"), QByteArray::number(length)});
    }
    record.requestHeaders = headers;

    QByteArray target = request.path.isEmpty() ? QByteArrayLiteral("/") : request.path;
    if (!request.query.isEmpty())
        target += '?' + request.query;

    LocalExchange::Settings settings;
    settings.authority = targetAuthority();
    settings.maxRequestBodyBytes = m_options.maxRequestBodyBytes;
    settings.maxResponseBodyBytes = m_options.maxResponseBodyBytes;
    settings.headTimeoutMs = m_options.timeoutMs;
    settings.bodyIdleTimeoutMs = m_options.bodyIdleTimeoutMs;
    settings.maxCollectedBytes = kMaxCollectedBytes;
    auto *exchange = new LocalExchange(request, http::requestHead(request.method, target, headers), framing, length,
                                       mode, settings, std::move(record), this);
    m_exchanges.append(exchange);
    connect(exchange, &LocalExchange::finished, this, [this, exchange] { onExchangeFinished(exchange); });
    return exchange;
}

void LocalForwarder::forward(const protocol::HttpRequest &request)
{
    if (m_streams.contains(request.id)) {
        qCWarning(lcForwarder, "ignoring a second request with the id %s", util::logSafe(request.id).constData());
        return;
    }
    LocalExchange *exchange = create(request, LocalExchange::Mode::Stream);
    m_streams.insert(request.id, exchange);
    connect(exchange, &LocalExchange::messageForProxy, this, &LocalForwarder::messageForProxy);
    connect(exchange, &LocalExchange::finished, this, &LocalForwarder::requestFinished);
    admit(exchange, request);
}

void LocalForwarder::forward(const protocol::HttpRequest &request, Callback done)
{
    LocalExchange *exchange = create(request, LocalExchange::Mode::Collect);
    auto response = std::make_shared<protocol::HttpResponse>();
    connect(exchange, &LocalExchange::messageForProxy, this, [response](const protocol::Message &message) {
        if (const auto *answer = std::get_if<protocol::HttpResponse>(&message))
            *response = *answer;
    });
    connect(exchange, &LocalExchange::finished, this, [response, done](const RequestRecord &record) {
        if (done)
            done(*response, record);
    });
    admit(exchange, request);
}

void LocalForwarder::admit(LocalExchange *exchange, const protocol::HttpRequest &request)
{
    exchange->begin();
    if (exchange->isDone())
        return;
    // Answers that need no connection still arrive through the event loop, as promised.
    auto later = [this, exchange](int status, const QString &message) {
        QPointer<LocalExchange> guard(exchange);
        QMetaObject::invokeMethod(
            this,
            [guard, status, message] {
                if (guard)
                    guard->failWith(status, message);
            },
            Qt::QueuedConnection);
    };
    if (!isValid(request)) {
        later(400, QStringLiteral("keyhole: the request cannot be passed on to the local service"));
        return;
    }
    // Requests not yet dispatched to a free connection do not count against the queue bound.
    const int freeSlots = qMax(0, m_options.maxConcurrent - runningCount());
    if (static_cast<int>(m_queue.size()) >= m_options.maxQueued + freeSlots) {
        later(503, QStringLiteral("keyhole: too many requests are waiting for the local service"));
        return;
    }
    m_queue.push_back(exchange);
    // Dispatch from the event loop too: forward() may be called from inside a callback.
    scheduleDispatch();
}

void LocalForwarder::scheduleDispatch()
{
    if (m_dispatchScheduled)
        return;
    m_dispatchScheduled = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_dispatchScheduled = false;
            dispatch();
        },
        Qt::QueuedConnection);
}

void LocalForwarder::deliverBody(const protocol::HttpBody &body)
{
    if (LocalExchange *exchange = m_streams.value(body.id))
        exchange->deliverBody(body);
}

void LocalForwarder::credit(const protocol::HttpCredit &credit)
{
    if (LocalExchange *exchange = m_streams.value(credit.id))
        exchange->grantCredit(credit.bytes);
}

void LocalForwarder::cancel(const protocol::HttpCancel &cancel)
{
    if (LocalExchange *exchange = m_streams.value(cancel.id))
        exchange->cancel(cancel.reason);
}

void LocalForwarder::dispatch()
{
    while (!m_queue.empty()) {
        const QPointer<LocalExchange> exchange = m_queue.front();
        if (!exchange || exchange->isDone()) {
            m_queue.pop_front();
            continue;
        }
        LocalConnection *connection = nullptr;
        for (LocalConnection *candidate : std::as_const(m_connections)) {
            if (candidate->isIdle() && !m_running.contains(candidate)) {
                connection = candidate;
                break;
            }
        }
        if (!connection) {
            if (m_connections.size() >= m_options.maxConcurrent)
                return; // all busy; a finished exchange dispatches again
            connection = newConnection();
        }
        m_queue.pop_front();
        m_running.insert(connection, exchange);
        exchange->attach(connection);
    }
}

void LocalForwarder::onExchangeFinished(LocalExchange *exchange)
{
    m_exchanges.removeOne(exchange);
    if (m_streams.value(exchange->id()) == exchange)
        m_streams.remove(exchange->id());
    for (auto it = m_running.begin(); it != m_running.end();) {
        if (it.value() == exchange)
            it = m_running.erase(it);
        else
            ++it;
    }
    // Not disconnected: the other receivers of finished() still get it; a done exchange says nothing more.
    exchange->deleteLater();
    // A cancelled or failed exchange leaves its connection dead.
    const QList<LocalConnection *> connections = m_connections;
    for (LocalConnection *connection : connections) {
        if (connection->isDead())
            dropConnection(connection);
    }
    if (!m_queue.empty())
        scheduleDispatch();
}

LocalConnection *LocalForwarder::newConnection()
{
    auto *connection = new LocalConnection(m_options.target, m_options.extraCaCertificates, this);
    connect(connection, &LocalConnection::finished, this,
            [this, connection](const LocalConnection::Outcome &outcome) { onConnectionFinished(connection, outcome); });
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

void LocalForwarder::onConnectionFinished(LocalConnection *connection, const LocalConnection::Outcome &outcome)
{
    LocalExchange *exchange = m_running.take(connection);
    if (exchange && exchange->canRetry(outcome)) {
        qCDebug(lcForwarder, "kept-alive connection to %s was stale; retrying %s", qPrintable(targetAuthority()),
                util::logSafe(exchange->id()).constData());
        dropConnection(connection);
        // The stale connection is gone, so a fresh one stays within maxConcurrent.
        LocalConnection *fresh = newConnection();
        m_running.insert(fresh, exchange);
        exchange->attach(fresh);
        return;
    }
    if (connection->isDead())
        dropConnection(connection);
    if (exchange)
        exchange->connectionFinished(outcome);
    dispatch();
}

void LocalForwarder::cancelAll()
{
    m_queue.clear();
    m_running.clear();
    m_streams.clear();
    const QList<LocalExchange *> exchanges = std::exchange(m_exchanges, {});
    for (LocalExchange *exchange : exchanges) {
        exchange->disconnect(this);
        exchange->cancel(QStringLiteral("the forwarder stopped"));
        exchange->deleteLater();
    }
    const QList<LocalConnection *> connections = std::exchange(m_connections, {});
    for (LocalConnection *connection : connections) {
        connection->disconnect(this);
        connection->abandon();
        connection->deleteLater();
    }
}

} // namespace keyhole::client
