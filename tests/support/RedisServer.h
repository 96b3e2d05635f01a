#pragma once

#include "ManagedProcess.h"

#include <QStringList>

#include <memory>

namespace keyhole::testing {

// A redis-server of the test's own on 127.0.0.1 (a free port, no persistence), killed with the
// object. freeze()/thaw() stop and continue it (SIGSTOP/SIGCONT); restart() brings it back empty on
// the same port. cli() runs redis-cli against it. Tests skip when redis-server is not installed.
class RedisServer
{
public:
    RedisServer();
    ~RedisServer();
    Q_DISABLE_COPY(RedisServer)

    static QString serverProgram(); // empty when absent
    static QString cliProgram();

    // `extraArgs` are redis-server options such as {"--client-output-buffer-limit", "pubsub 1mb 512kb 1"}.
    bool start(const QStringList &extraArgs = {});
    bool restart();
    void kill();
    void freeze();
    void thaw();
    bool isRunning() const;

    quint16 port() const { return m_port; }
    QString url() const;
    QString errorString() const { return m_error; }

    // redis-cli's raw output, trimmed (--no-raw off: plain values, one per line).
    QByteArray cli(const QStringList &args, int timeoutMs = 5000) const;
    // Counts for the leak checks: connections other than redis-cli's, and subscribers of a channel.
    int clientCount() const;
    int subscriberCount(const QString &channel) const;
    int channelCount() const;

    ManagedProcess *process() const { return m_process.get(); }

private:
    bool launch();

    std::unique_ptr<ManagedProcess> m_process;
    QStringList m_extraArgs;
    quint16 m_port = 0;
    QString m_error;
};

} // namespace keyhole::testing
