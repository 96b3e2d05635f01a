#pragma once

#include "LocalConnection.h"
#include "RequestRecord.h"
#include "protocol/Messages.h"

#include <QElapsedTimer>
#include <QHash>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QUrl>

#include <deque>
#include <functional>

namespace keyhole::client {

// Replays visitor requests against the local service and answers each with an HttpResponse.
// A small HTTP/1.1 client of its own (not QNetworkAccessManager, which follows redirects, merges
// headers, decompresses and adds headers of its own): what the service says goes back byte-exact,
// minus hop-by-hop headers. Keeps a pool of keep-alive connections, at most maxConcurrent busy at
// once; further requests wait in a bounded queue.
class LocalForwarder : public QObject
{
    Q_OBJECT

public:
    struct Options {
        QUrl target;            // http(s)://host:port
        QString hostHeader;     // empty: keep the visitor's; "rewrite": the target's host:port; else literal
        int maxConcurrent = 32;
        int maxQueued = 1000;
        qint64 maxResponseBodyBytes = 512000; // the proxy's limit, from the RegistrationResponse
        int timeoutMs = 28000;                // the proxy's request timeout minus a margin
        QList<QSslCertificate> extraCaCertificates;
    };

    // Called once per request, from the event loop (never from inside forward()).
    using Callback = std::function<void(const protocol::HttpResponse &response, const RequestRecord &record)>;

    explicit LocalForwarder(const Options &options, QObject *parent = nullptr);
    ~LocalForwarder() override;

    const Options &options() const { return m_options; }
    // Limits from a (new) registration; applies to requests that start afterwards.
    void setLimits(qint64 maxResponseBodyBytes, int timeoutMs);

    void forward(const protocol::HttpRequest &request, Callback done);
    // Drops queued and running requests without calling their callbacks, and closes every connection.
    void cancelAll();

    int runningCount() const;
    int queuedCount() const { return static_cast<int>(m_queue.size()); }
    int connectionCount() const { return m_connections.size(); }

    // "host:port" of the target, as error pages name it.
    QString targetAuthority() const;

private:
    struct Job {
        protocol::HttpRequest request;
        QByteArray wire; // the request as written to the service
        RequestRecord record;
        QElapsedTimer elapsed;
        Callback done;
        bool retried = false;
    };

    void prepare(Job &job) const;
    void dispatch();
    void startOn(LocalConnection *connection, Job job);
    void onFinished(LocalConnection *connection, const LocalConnection::Outcome &outcome);
    void complete(Job job, protocol::HttpResponse response, const QString &error);
    void completeWithError(Job job, int status, const QString &message);
    LocalConnection *newConnection();
    void dropConnection(LocalConnection *connection);

    Options m_options;
    QList<LocalConnection *> m_connections;
    QHash<LocalConnection *, Job> m_running;
    std::deque<Job> m_queue;
};

} // namespace keyhole::client
