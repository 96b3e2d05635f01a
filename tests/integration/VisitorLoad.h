#pragma once

#include "CurlJob.h"
#include "ScaleOutCluster.h"
#include "TestEnvironment.h"

#include <QElapsedTimer>
#include <QMap>
#include <QTest>
#include <QTimer>

#include <algorithm>
#include <memory>
#include <vector>

namespace keyhole::testing {

// Keeps `concurrency` curl visitors running against one URL base until stopped; each asks for
// /bytes/4096 with its own seed, so a body that belongs to another request is caught.
class VisitorLoad : public QObject
{
public:
    struct Outcome {
        int status = 0;
        int exitCode = -1;
        bool bodyOk = false;
        qint64 startedMs = 0;
        qint64 endedMs = 0;
    };

    VisitorLoad(const ScaleOutCluster &cluster, quint16 port, int concurrency, const QString &name)
        : m_resolve(cluster.resolveArgs(cluster.label(), port))
        , m_base(cluster.url(cluster.label(), port, QString()))
        , m_concurrency(concurrency)
        , m_name(name)
    {
        m_clock.start();
        connect(&m_poll, &QTimer::timeout, this, [this] { poll(); });
    }

    void start()
    {
        m_running = true;
        for (int i = 0; i < m_concurrency; ++i)
            launch();
        m_poll.start(20);
    }

    // Stops launching and waits for the visitors still out.
    void stop()
    {
        m_running = false;
        const bool drained = QTest::qWaitFor(
            [this] {
                poll();
                return m_jobs.empty();
            },
            30000);
        if (!drained)
            qWarning() << m_name << "visitors still running after 30 s";
        m_poll.stop();
    }

    qint64 now() const { return m_clock.elapsed(); }
    const QList<Outcome> &outcomes() const { return m_outcomes; }
    int count(int status) const
    {
        return int(std::count_if(m_outcomes.begin(), m_outcomes.end(),
                                 [status](const Outcome &o) { return o.status == status; }));
    }
    int okAfter(qint64 ms) const
    {
        return int(std::count_if(m_outcomes.begin(), m_outcomes.end(),
                                 [ms](const Outcome &o) { return o.status == 200 && o.startedMs >= ms; }));
    }
    int badBodies() const
    {
        return int(std::count_if(m_outcomes.begin(), m_outcomes.end(),
                                 [](const Outcome &o) { return o.status == 200 && !o.bodyOk; }));
    }
    qint64 longest() const
    {
        qint64 most = 0;
        for (const Outcome &o : m_outcomes)
            most = qMax(most, o.endedMs - o.startedMs);
        return most;
    }
    QString summary() const
    {
        QMap<int, int> byStatus;
        for (const Outcome &o : m_outcomes)
            ++byStatus[o.status];
        QStringList parts;
        for (auto it = byStatus.cbegin(); it != byStatus.cend(); ++it)
            parts << QStringLiteral("%1x%2").arg(it.value()).arg(it.key());
        return QStringLiteral("%1: %2, longest %3 ms").arg(m_name, parts.join(u' ')).arg(longest());
    }

private:
    struct Job {
        std::unique_ptr<CurlJob> curl;
        QByteArray seed;
        qint64 startedMs = 0;
    };

    void launch()
    {
        Job job;
        job.seed = m_name.toLatin1() + QByteArray::number(++m_counter);
        job.startedMs = now();
        job.curl = startCurl(
            m_resolve
            + QStringList{QStringLiteral("-m"), QStringLiteral("15"),
                          m_base + QStringLiteral("/bytes/4096?seed=") + QString::fromLatin1(job.seed)});
        m_jobs.push_back(std::move(job));
    }

    void poll()
    {
        for (auto it = m_jobs.begin(); it != m_jobs.end();) {
            if (!it->curl->isFinished()) {
                ++it;
                continue;
            }
            const CurlResult r = it->curl->wait(0);
            Outcome outcome;
            outcome.status = r.status;
            outcome.exitCode = r.exitCode;
            outcome.bodyOk = r.body == deterministicBytes(4096, it->seed);
            outcome.startedMs = it->startedMs;
            outcome.endedMs = now();
            m_outcomes.append(outcome);
            it = m_jobs.erase(it);
            if (m_running)
                launch();
        }
    }

    QStringList m_resolve;
    QString m_base;
    int m_concurrency;
    QString m_name;
    QElapsedTimer m_clock;
    QTimer m_poll;
    std::vector<Job> m_jobs;
    QList<Outcome> m_outcomes;
    int m_counter = 0;
    bool m_running = false;
};

} // namespace keyhole::testing
