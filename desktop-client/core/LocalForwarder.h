#pragma once

#include "LocalConnection.h"
#include "LocalExchange.h"
#include "RequestRecord.h"
#include "protocol/Messages.h"

#include <QHash>
#include <QList>
#include <QObject>
#include <QPointer>
#include <QSslCertificate>
#include <QUrl>

#include <deque>
#include <functional>

namespace keyhole::client {

// Replays visitor requests against the local service and streams each answer back (see
// LocalExchange). A small HTTP/1.1 client of its own (not QNetworkAccessManager, which follows
// redirects, merges headers, decompresses and adds headers of its own): what the service says goes
// back byte-exact, minus hop-by-hop headers. Keeps a pool of keep-alive connections, at most
// maxConcurrent busy at once; further requests wait in a bounded queue.
class LocalForwarder : public QObject
{
    Q_OBJECT

public:
    struct Options {
        QUrl target;        // http(s)://host:port
        QString hostHeader; // empty: keep the visitor's; "rewrite": the target's host:port; else literal
        int maxConcurrent = 32;
        int maxQueued = 1000;
        qint64 maxRequestBodyBytes = 0; // the proxy's limits, from the RegistrationResponse; 0: none
        qint64 maxResponseBodyBytes = 512000;
        int timeoutMs = 28000;          // the proxy's request timeout minus a margin: waiting for the head
        int bodyIdleTimeoutMs = 120000; // a body that stopped moving
        QList<QSslCertificate> extraCaCertificates;
    };

    // A whole response, for callers that want one (replays): called once per request, from the
    // event loop (never from inside forward()).
    using Callback = std::function<void(const protocol::HttpResponse &response, const RequestRecord &record)>;
    // The most of a response body forward(request, done) holds when there is no limit.
    static constexpr qint64 kMaxCollectedBytes = 16 * 1024 * 1024;

    explicit LocalForwarder(const Options &options, QObject *parent = nullptr);
    ~LocalForwarder() override;

    const Options &options() const { return m_options; }
    // Limits from a (new) registration (0: no limit); applies to requests that start afterwards.
    void setLimits(qint64 maxRequestBodyBytes, qint64 maxResponseBodyBytes, int timeoutMs);

    // Streams the exchange: what goes to the proxy comes out of messageForProxy(), the log record
    // out of requestFinished(). The proxy's HttpBody, HttpCredit and HttpCancel for it go to
    // deliverBody(), credit() and cancel(); unknown ids (finished exchanges) are ignored.
    void forward(const protocol::HttpRequest &request);
    void deliverBody(const protocol::HttpBody &body);
    void credit(const protocol::HttpCredit &credit);
    void cancel(const protocol::HttpCancel &cancel);
    // The whole response in one callback (the request must not be streamed).
    void forward(const protocol::HttpRequest &request, Callback done);
    // Drops queued and running requests without a word, and closes every connection.
    void cancelAll();

    int runningCount() const { return m_running.size(); }
    int queuedCount() const { return static_cast<int>(m_queue.size()); }
    int connectionCount() const { return m_connections.size(); }
    int exchangeCount() const { return m_exchanges.size(); }

    // "host:port" of the target, as error pages name it.
    QString targetAuthority() const;

Q_SIGNALS:
    void messageForProxy(const keyhole::protocol::Message &message);
    void requestFinished(const keyhole::client::RequestRecord &record);

private:
    LocalExchange *create(const protocol::HttpRequest &request, LocalExchange::Mode mode);
    void admit(LocalExchange *exchange, const protocol::HttpRequest &request);
    void dispatch();
    // dispatch() from the event loop, once for however many requests arrive before it runs.
    void scheduleDispatch();
    void onExchangeFinished(LocalExchange *exchange);
    void onConnectionFinished(LocalConnection *connection, const LocalConnection::Outcome &outcome);
    LocalConnection *newConnection();
    void dropConnection(LocalConnection *connection);

    Options m_options;
    QList<LocalConnection *> m_connections;
    QHash<LocalConnection *, LocalExchange *> m_running;
    QHash<QByteArray, LocalExchange *> m_streams; // by id, streamed exchanges only
    QList<LocalExchange *> m_exchanges;           // every exchange not finished
    std::deque<QPointer<LocalExchange>> m_queue;
    bool m_dispatchScheduled = false;
};

} // namespace keyhole::client
