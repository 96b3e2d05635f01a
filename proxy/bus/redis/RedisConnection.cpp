#include "bus/redis/RedisConnection.h"

#include "bus/BusLogging.h"

#include <QHostAddress>
#include <QHostInfo>
#include <QRandomGenerator>
#include <QSocketNotifier>

#include <hiredis/async.h>
#include <hiredis/hiredis.h>

#include <chrono>
#include <csignal>
#include <memory>
#include <vector>

namespace keyhole::proxy {

namespace {
qint64 nowMs()
{
    using namespace std::chrono;
    return duration_cast<milliseconds>(steady_clock::now().time_since_epoch()).count();
}

// hiredis writes with write(2): a connection Redis closed would raise SIGPIPE and kill the process.
void ignoreSigpipeOnce()
{
    static const bool done = [] {
        struct sigaction current {
        };
        if (::sigaction(SIGPIPE, nullptr, &current) == 0 && current.sa_handler == SIG_DFL) {
            struct sigaction ignore {
            };
            ignore.sa_handler = SIG_IGN;
            ::sigaction(SIGPIPE, &ignore, nullptr);
        }
        return true;
    }();
    Q_UNUSED(done);
}
} // namespace

struct RedisConnection::Pending {
    RedisConnection *owner = nullptr;
    QPointer<QObject> context;
    bool hasContext = false;
    Callback done;
    qint64 sentAtMs = 0;
    qint64 bytes = 0;
    bool answered = false; // failed by us already (timeout, drop); hiredis still owes the callback
};

RedisConnection::RedisConnection(const RedisUrl &url, const Options &options, QObject *parent)
    : QObject(parent)
    , m_url(url)
    , m_options(options)
    , m_backoffMs(options.minBackoffMs)
{
    ignoreSigpipeOnce();
    m_connectTimer.setSingleShot(true);
    connect(&m_connectTimer, &QTimer::timeout, this,
            [this] { drop(QStringLiteral("no connection within %1 ms").arg(m_options.connectTimeoutMs)); });
    m_reconnectTimer.setSingleShot(true);
    connect(&m_reconnectTimer, &QTimer::timeout, this, &RedisConnection::startConnect);
    // One coarse timer checks the oldest command instead of a timer per command.
    m_deadlineTimer.setInterval(qBound(20, m_options.commandTimeoutMs / 10, 200));
    connect(&m_deadlineTimer, &QTimer::timeout, this, &RedisConnection::checkDeadlines);
}

RedisConnection::~RedisConnection()
{
    m_destroying = true;
    if (m_context)
        redisAsyncFree(m_context); // runs our callbacks with no reply; they see m_destroying and only free
}

void RedisConnection::open()
{
    m_wanted = true;
    if (m_state == State::Closed && !m_reconnectTimer.isActive())
        startConnect();
}

void RedisConnection::close()
{
    m_wanted = false;
    m_reconnectTimer.stop();
    drop(QStringLiteral("closed"));
}

void RedisConnection::reconnect(const QString &reason)
{
    if (m_context || m_state != State::Closed)
        drop(reason);
}

void RedisConnection::setState(State state)
{
    m_state = state;
}

void RedisConnection::startConnect()
{
    if (!m_wanted || m_context)
        return;
    setState(State::Connecting);
    m_connectTimer.start(m_options.connectTimeoutMs);
    const quint64 generation = ++m_generation;
    if (!QHostAddress(m_url.host).isNull()) {
        connectTo(m_url.host);
        return;
    }
    // hiredis resolves with a blocking getaddrinfo(); resolve here so the event loop never waits on DNS.
    QHostInfo::lookupHost(m_url.host, this, [this, generation](const QHostInfo &info) {
        if (generation != m_generation || m_state != State::Connecting || m_context)
            return;
        if (info.error() != QHostInfo::NoError || info.addresses().isEmpty()) {
            onContextGone(QStringLiteral("cannot resolve %1: %2").arg(m_url.host, info.errorString()));
            return;
        }
        connectTo(info.addresses().first().toString());
    });
}

void RedisConnection::connectTo(const QString &address)
{
    redisAsyncContext *context = redisAsyncConnect(address.toUtf8().constData(), m_url.port);
    if (!context || context->err) {
        const QString reason = context ? QString::fromUtf8(context->errstr) : QStringLiteral("out of memory");
        if (context)
            redisAsyncFree(context);
        onContextGone(reason);
        return;
    }
    m_context = context;
    context->data = this;
    context->ev.data = this;
    context->ev.addRead = &RedisConnection::hookAddRead;
    context->ev.delRead = &RedisConnection::hookDelRead;
    context->ev.addWrite = &RedisConnection::hookAddWrite;
    context->ev.delWrite = &RedisConnection::hookDelWrite;
    context->ev.cleanup = &RedisConnection::hookCleanup;
    redisAsyncSetConnectCallback(context, &RedisConnection::onConnect);

    m_readNotifier = new QSocketNotifier(qintptr(context->c.fd), QSocketNotifier::Read, this);
    m_writeNotifier = new QSocketNotifier(qintptr(context->c.fd), QSocketNotifier::Write, this);
    m_readNotifier->setEnabled(false);
    connect(m_readNotifier, &QSocketNotifier::activated, this, [this] {
        if (m_context)
            redisAsyncHandleRead(m_context); // may free the context (cleanup hook)
    });
    connect(m_writeNotifier, &QSocketNotifier::activated, this, [this] {
        if (m_context)
            redisAsyncHandleWrite(m_context); // completes the connect on the first call
    });
    // The handshake is queued right away; its first write also completes the non-blocking connect.
    sendHandshake();
}

void RedisConnection::sendHandshake()
{
    QList<QList<QByteArray>> steps;
    if (!m_url.password.isEmpty()) {
        steps.append(m_url.user.isEmpty() ? QList<QByteArray>{"AUTH", m_url.password}
                                          : QList<QByteArray>{"AUTH", m_url.user, m_url.password});
    }
    if (m_url.db != 0)
        steps.append({"SELECT", QByteArray::number(m_url.db)});
    if (!m_options.clientName.isEmpty())
        steps.append({"CLIENT", "SETNAME", m_options.clientName});
    steps.append({"PING"});
    // Sent before the state is Ready, so bypass the Ready check in command().
    for (qsizetype i = 0; i < steps.size(); ++i) {
        const bool last = i == steps.size() - 1;
        const quint64 generation = m_generation;
        auto *pending = new Pending;
        pending->owner = this;
        pending->context = this;
        pending->hasContext = true;
        pending->done = [this, last, generation](const RedisReply &reply) {
            if (generation == m_generation)
                onHandshakeReply(reply, last);
        };
        pending->sentAtMs = nowMs();
        std::vector<const char *> argv;
        std::vector<size_t> lengths;
        for (const QByteArray &arg : steps.at(i)) {
            argv.push_back(arg.constData());
            lengths.push_back(size_t(arg.size()));
        }
        if (redisAsyncCommandArgv(m_context, &RedisConnection::onReply, pending, int(argv.size()), argv.data(),
                                  lengths.data())
            != REDIS_OK) {
            delete pending;
            drop(QStringLiteral("cannot queue the handshake"));
            return;
        }
        m_pending.push_back(pending);
    }
}

void RedisConnection::onHandshakeReply(const RedisReply &reply, bool last)
{
    if (reply.isError()) {
        // Wrong password, unknown database...: say why, then keep retrying with backoff.
        if (!reply.isFailed())
            qCWarning(lcBus).noquote() << "Redis" << m_url.redacted() << "refused the handshake:" << reply.describe();
        drop(QStringLiteral("handshake failed: %1").arg(reply.describe()));
        return;
    }
    if (!last || m_state != State::Connecting)
        return;
    m_connectTimer.stop();
    m_backoffMs = m_options.minBackoffMs;
    m_warnedUnreachable = false;
    setState(State::Ready);
    qCInfo(lcBus).noquote() << "connected to" << m_url.redacted() << "as" << m_options.clientName;
    Q_EMIT ready();
}

void RedisConnection::command(const QList<QByteArray> &args, QObject *context, Callback done)
{
    auto *pending = new Pending;
    pending->owner = this;
    pending->context = context;
    pending->hasContext = context != nullptr;
    pending->done = std::move(done);
    pending->sentAtMs = nowMs();
    for (const QByteArray &arg : args)
        pending->bytes += arg.size();

    if (m_state != State::Ready || !m_context) {
        failLater(pending, "not connected to Redis");
        delete pending;
        return;
    }
    if (qsizetype(m_pending.size()) >= m_options.maxPendingCommands
        || m_pendingBytes + pending->bytes > m_options.maxPendingBytes) {
        failLater(pending, "too many Redis commands waiting");
        delete pending;
        return;
    }
    std::vector<const char *> argv;
    std::vector<size_t> lengths;
    argv.reserve(size_t(args.size()));
    lengths.reserve(size_t(args.size()));
    for (const QByteArray &arg : args) {
        argv.push_back(arg.constData());
        lengths.push_back(size_t(arg.size()));
    }
    if (redisAsyncCommandArgv(m_context, &RedisConnection::onReply, pending, int(argv.size()), argv.data(),
                              lengths.data())
        != REDIS_OK) {
        failLater(pending, "Redis connection is closing");
        delete pending;
        return;
    }
    m_pending.push_back(pending);
    m_pendingBytes += pending->bytes;
    if (!m_deadlineTimer.isActive())
        m_deadlineTimer.start();
}

void RedisConnection::subscribe(const QList<QByteArray> &channels)
{
    if (m_state != State::Ready || !m_context || channels.isEmpty())
        return;
    std::vector<const char *> argv{"SUBSCRIBE"};
    std::vector<size_t> lengths{9};
    for (const QByteArray &channel : channels) {
        argv.push_back(channel.constData());
        lengths.push_back(size_t(channel.size()));
    }
    // privdata is this object: hiredis keeps one copy of the callback per channel and calls each
    // with no reply when the context goes, so a per-command record would be freed twice.
    redisAsyncCommandArgv(m_context, &RedisConnection::onSubscriptionReply, this, int(argv.size()), argv.data(),
                          lengths.data());
}

void RedisConnection::forget(Pending *pending)
{
    if (!m_pending.empty() && m_pending.front() == pending) {
        m_pending.pop_front();
    } else {
        for (auto it = m_pending.begin(); it != m_pending.end(); ++it) {
            if (*it == pending) {
                m_pending.erase(it);
                break;
            }
        }
    }
    m_pendingBytes -= pending->bytes;
    if (m_pending.empty())
        m_deadlineTimer.stop();
}

void RedisConnection::failLater(Pending *pending, const QByteArray &reason)
{
    if (!pending->done)
        return;
    QMetaObject::invokeMethod(
        this,
        [context = pending->context, hasContext = pending->hasContext, done = std::move(pending->done), reason] {
            if (!hasContext || context)
                done(RedisReply::failed(reason));
        },
        Qt::QueuedConnection);
}

void RedisConnection::onReply(redisAsyncContext *, void *reply, void *privdata)
{
    std::unique_ptr<Pending> pending(static_cast<Pending *>(privdata));
    RedisConnection *self = pending->owner;
    if (pending->answered || self->m_destroying)
        return;
    self->forget(pending.get());
    if (!reply) {
        // The context is going away: answer outside hiredis, which is in the middle of freeing.
        self->failLater(pending.get(),
                        self->m_dropReason.isEmpty() ? QByteArray("Redis connection lost")
                                                     : self->m_dropReason.toUtf8());
        return;
    }
    if (pending->done && (!pending->hasContext || pending->context))
        pending->done(RedisReply::fromHiredis(reply));
}

void RedisConnection::onSubscriptionReply(redisAsyncContext *, void *reply, void *privdata)
{
    auto *self = static_cast<RedisConnection *>(privdata);
    if (!reply || self->m_destroying)
        return;
    const auto *r = static_cast<const redisReply *>(reply);
    if (r->type != REDIS_REPLY_ARRAY || r->elements < 3)
        return;
    const redisReply *kind = r->element[0];
    const redisReply *channel = r->element[1];
    const redisReply *payload = r->element[2];
    if (kind->type != REDIS_REPLY_STRING || channel->type != REDIS_REPLY_STRING)
        return;
    const QByteArray kindText(kind->str, qsizetype(kind->len));
    const QByteArray channelName(channel->str, qsizetype(channel->len));
    if (kindText == "message" && payload->type == REDIS_REPLY_STRING)
        Q_EMIT self->message(channelName, QByteArray(payload->str, qsizetype(payload->len)));
    else if (kindText == "subscribe")
        Q_EMIT self->subscribed(channelName);
}

void RedisConnection::onConnect(const redisAsyncContext *context, int status)
{
    // On failure hiredis frees the context right after this; the cleanup hook handles the rest.
    if (status != REDIS_OK) {
        auto *self = static_cast<RedisConnection *>(context->data);
        if (self->m_dropReason.isEmpty())
            self->m_dropReason = QString::fromUtf8(context->errstr);
    }
}

void RedisConnection::drop(const QString &reason)
{
    if (m_dropReason.isEmpty())
        m_dropReason = reason;
    // Fail what is waiting now; hiredis will still call each callback once more, which only frees it.
    const auto pending = std::exchange(m_pending, {});
    m_pendingBytes = 0;
    m_deadlineTimer.stop();
    for (Pending *p : pending) {
        p->answered = true;
        failLater(p, reason.toUtf8());
    }
    if (m_context) {
        redisAsyncFree(m_context); // deferred by hiredis when we are inside one of its callbacks
        return;                    // the cleanup hook calls onContextGone
    }
    if (m_state != State::Closed)
        onContextGone(reason);
}

void RedisConnection::hookCleanup(void *privdata)
{
    auto *self = static_cast<RedisConnection *>(privdata);
    QString reason = self->m_dropReason;
    if (reason.isEmpty() && self->m_context && self->m_context->errstr && self->m_context->err)
        reason = QString::fromUtf8(self->m_context->errstr);
    if (reason.isEmpty())
        reason = QStringLiteral("connection closed by Redis");
    self->m_context = nullptr;
    for (QSocketNotifier *notifier : {self->m_readNotifier, self->m_writeNotifier}) {
        if (notifier) {
            notifier->setEnabled(false); // its descriptor is about to be closed and may be reused
            notifier->deleteLater();
        }
    }
    self->m_readNotifier = self->m_writeNotifier = nullptr;
    if (self->m_destroying)
        return;
    // hiredis is still unwinding: continue from the event loop.
    const quint64 generation = self->m_generation;
    QMetaObject::invokeMethod(
        self,
        [self, reason, generation] {
            if (generation == self->m_generation)
                self->onContextGone(reason);
        },
        Qt::QueuedConnection);
}

void RedisConnection::onContextGone(const QString &reason)
{
    if (m_context)
        return;
    ++m_generation;
    m_connectTimer.stop();
    m_dropReason.clear();
    const auto pending = std::exchange(m_pending, {});
    m_pendingBytes = 0;
    m_deadlineTimer.stop();
    for (Pending *p : pending) {
        p->answered = true;
        failLater(p, reason.toUtf8());
    }
    const bool wasReady = m_state == State::Ready;
    setState(State::Closed);
    if (wasReady) {
        qCWarning(lcBus).noquote() << "lost Redis connection" << m_options.clientName << ":" << reason;
        Q_EMIT lost(reason);
    } else if (m_wanted && !m_warnedUnreachable) {
        // Once per outage; the retries after it are quiet.
        m_warnedUnreachable = true;
        qCWarning(lcBus).noquote() << "cannot connect to" << m_url.redacted() << "(" << reason
                                   << "): serving local tunnels, retrying";
    } else if (m_wanted) {
        qCDebug(lcBus).noquote() << "cannot connect to" << m_url.redacted() << ":" << reason;
    }
    scheduleReconnect();
}

void RedisConnection::scheduleReconnect()
{
    if (!m_wanted || m_destroying)
        return;
    // Jitter keeps several instances from hammering a Redis that just came back in lockstep.
    const int jittered = int(m_backoffMs * (0.8 + 0.4 * QRandomGenerator::global()->generateDouble()));
    m_reconnectTimer.start(jittered);
    m_backoffMs = qMin(m_options.maxBackoffMs, m_backoffMs * 2);
}

void RedisConnection::checkDeadlines()
{
    if (m_pending.empty()) {
        m_deadlineTimer.stop();
        return;
    }
    const qint64 age = nowMs() - m_pending.front()->sentAtMs;
    if (age > m_options.commandTimeoutMs)
        drop(QStringLiteral("Redis did not answer within %1 ms").arg(m_options.commandTimeoutMs));
}

void RedisConnection::hookAddRead(void *self)
{
    if (auto *notifier = static_cast<RedisConnection *>(self)->m_readNotifier)
        notifier->setEnabled(true);
}

void RedisConnection::hookDelRead(void *self)
{
    if (auto *notifier = static_cast<RedisConnection *>(self)->m_readNotifier)
        notifier->setEnabled(false);
}

void RedisConnection::hookAddWrite(void *self)
{
    if (auto *notifier = static_cast<RedisConnection *>(self)->m_writeNotifier)
        notifier->setEnabled(true);
}

void RedisConnection::hookDelWrite(void *self)
{
    if (auto *notifier = static_cast<RedisConnection *>(self)->m_writeNotifier)
        notifier->setEnabled(false);
}

} // namespace keyhole::proxy
