#pragma once

#include "bus/MessageBus.h"

#include <QHash>
#include <QObject>
#include <QTimer>

namespace keyhole::proxy {

class RedisConnection;

// Which tunnels this instance holds, and its claim on each in Redis:
//   keyhole:owner:<label> = "<epoch> <instance> <registered at ms>"  (PX ttl, renewed every ttl/3)
//   keyhole:epoch:<label> = INCR counter: every claim gets a new, larger fencing epoch
// A claim is announced on keyhole:claims as "<label> <epoch> <instance>". The newest registration
// wins, across instances as on one: a claim loses only to a holder registered later, and a holder
// that finds another claim in its key (renewal, announcement) re-checks and is told taken().
// Presence never relies on keyspace expiry events: a key that expired is simply claimed again.
class RedisOwnership : public QObject
{
    Q_OBJECT

public:
    RedisOwnership(QByteArray instanceId, RedisConnection *commands, int ttlMs, QObject *parent = nullptr);

    void attach(const QString &label, TunnelSink *sink);
    void detach(const QString &label, TunnelSink *sink);
    TunnelSink *sink(const QString &label) const;
    quint64 epoch(const QString &label) const; // 0 while unclaimed
    int count() const { return int(m_local.size()); }

    // Claims every local tunnel again with new epochs (after a reconnect or a lost subscription).
    void claimAll();
    // Another instance announced a claim on a label we hold: renew, and claim again if the key is
    // not ours any more; the claim script decides who registered last.
    void verify(const QString &label);

    static QByteArray ownerKey(const QString &label);

Q_SIGNALS:
    void taken(const QString &label); // a newer registration elsewhere holds it
    void claimed(const QString &label, quint64 epoch, quint64 previousEpoch);

private:
    struct Local {
        TunnelSink *sink = nullptr;
        qint64 registeredAtMs = 0;
        quint64 epoch = 0;
        QByteArray value; // what our owner key holds while the claim stands
        quint64 generation = 0;
    };

    void claim(const QString &label);
    void renewAll();

    QByteArray m_instanceId;
    RedisConnection *m_commands;
    int m_ttlMs;
    QHash<QString, Local> m_local;
    QTimer m_renew;
    quint64 m_nextGeneration = 1;
};

} // namespace keyhole::proxy
