#pragma once

#include "bus/redis/RedisReply.h"
#include "bus/redis/RedisUrl.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QTimer>

#include <deque>
#include <functional>

struct redisAsyncContext;
class QSocketNotifier;

namespace keyhole::proxy {

// One connection to Redis: hiredis's async API driven by the Qt event loop through two
// QSocketNotifiers (hiredis's own adapters/qt.h needs moc in a header and leaks its notifiers).
//
// - Reconnects by itself with jittered backoff after every loss until close().
// - hiredis 0.14 has no timeouts: the connect (TCP + AUTH/SELECT/PING) and every command have a
//   deadline of ours. A command unanswered past it means Redis is stuck (stopped, partitioned): the
//   connection is dropped and every command still waiting fails at once, rather than hanging.
// - Every callback runs exactly once (reply or failure) unless its `context` was destroyed first.
//   Failures (not connected, timed out, connection lost) never run inside command() or inside hiredis.
// - The hiredis context is owned here and freed exactly once: by hiredis itself after an I/O error
//   (its cleanup hook tells us), or by us. Never delete this object from one of its own callbacks or
//   signals; use deleteLater().
// Main thread only.
class RedisConnection : public QObject
{
    Q_OBJECT

public:
    enum class State { Closed, Connecting, Ready };

    struct Options {
        QByteArray clientName;       // CLIENT SETNAME: lets operators (and tests) tell our connections apart
        int connectTimeoutMs = 2000; // TCP connect plus the handshake
        int commandTimeoutMs = 2000; // for the oldest unanswered command
        int minBackoffMs = 100;
        int maxBackoffMs = 3000;
        qsizetype maxPendingCommands = 100000; // beyond these, new commands fail at once
        qint64 maxPendingBytes = 64 << 20;
    };
    using Callback = std::function<void(const RedisReply &)>;

    RedisConnection(const RedisUrl &url, const Options &options, QObject *parent = nullptr);
    ~RedisConnection() override;
    Q_DISABLE_COPY(RedisConnection)

    void open();  // connect now, and again after every loss
    void close(); // disconnect and stay disconnected
    // Drops the connection and reconnects after the backoff: for an owner that saw it go stale.
    void reconnect(const QString &reason);

    State state() const { return m_state; }
    bool isReady() const { return m_state == State::Ready; }

    // Sends `args` as one command. `done` (may be empty) gets the reply; it is skipped if `context`
    // (may be null) is destroyed before.
    void command(const QList<QByteArray> &args, QObject *context, Callback done);
    void command(const QList<QByteArray> &args) { command(args, nullptr, {}); }
    // Subscriber connections: SUBSCRIBE; messages arrive as message(), confirmations as subscribed().
    void subscribe(const QList<QByteArray> &channels);

    qsizetype pendingCount() const { return qsizetype(m_pending.size()); }
    qint64 pendingBytes() const { return m_pendingBytes; }

Q_SIGNALS:
    void ready();
    void lost(const QString &reason);
    void message(const QByteArray &channel, const QByteArray &payload);
    void subscribed(const QByteArray &channel);

private:
    struct Pending;

    void startConnect();
    void connectTo(const QString &address);
    void sendHandshake();
    void onHandshakeReply(const RedisReply &reply, bool last);
    void drop(const QString &reason);
    void onContextGone(const QString &reason);
    void scheduleReconnect();
    void checkDeadlines();
    void failLater(Pending *pending, const QByteArray &reason);
    void forget(Pending *pending);
    void setState(State state);

    static void onReply(redisAsyncContext *context, void *reply, void *privdata);
    static void onSubscriptionReply(redisAsyncContext *context, void *reply, void *privdata);
    static void onConnect(const redisAsyncContext *context, int status);
    static void hookAddRead(void *self);
    static void hookDelRead(void *self);
    static void hookAddWrite(void *self);
    static void hookDelWrite(void *self);
    static void hookCleanup(void *self);

    RedisUrl m_url;
    Options m_options;
    State m_state = State::Closed;
    bool m_wanted = false; // open() was called and close() not since
    bool m_destroying = false;
    bool m_warnedUnreachable = false;
    redisAsyncContext *m_context = nullptr;
    QSocketNotifier *m_readNotifier = nullptr;
    QSocketNotifier *m_writeNotifier = nullptr;
    quint64 m_generation = 0; // guards host lookups and queued work of an earlier connection
    QString m_dropReason;
    std::deque<Pending *> m_pending; // unanswered commands, oldest first
    qint64 m_pendingBytes = 0;
    QTimer m_connectTimer;
    QTimer m_reconnectTimer;
    QTimer m_deadlineTimer;
    int m_backoffMs = 0;
};

} // namespace keyhole::proxy
