#pragma once

#include "bus/redis/RedisConnection.h"

#include <QObject>
#include <QTimer>

#include <deque>

namespace keyhole::proxy {

// The instance's one subscription: a dedicated connection SUBSCRIBEd once to its inbox and the
// claims channel, resubscribed after every reconnect (never one SUBSCRIBE per tunnel or request).
//
// Heartbeat: every interval the instance PUBLISHes a heartbeat to its own inbox over the command
// connection and must hear it here. A heartbeat unheard past `staleMs` (Redis frozen, the
// subscription dropped without a FIN) means the subscription cannot be trusted: it is torn down and
// made again, and health() is false meanwhile, so a load balancer takes the instance out.
class RedisSubscriber : public QObject
{
    Q_OBJECT

public:
    RedisSubscriber(const RedisUrl &url, const RedisConnection::Options &options, QList<QByteArray> channels,
                    RedisConnection *commands, QByteArray heartbeatEnvelopePrefix, int heartbeatMs, int staleMs,
                    QObject *parent = nullptr);

    void open();
    bool isSubscribed() const { return m_subscribed; }
    bool isHealthy() const;
    QString healthDetail() const;
    // The bus heard heartbeat `nonce` on the inbox.
    void heard(quint64 nonce);

Q_SIGNALS:
    void message(const QByteArray &channel, const QByteArray &payload);
    void subscribedChanged(bool subscribed); // true once every channel is confirmed; false when lost

private:
    void onReady();
    void onLost(const QString &reason);
    void onSubscribed(const QByteArray &channel);
    void beat();

    RedisConnection m_connection;
    QList<QByteArray> m_channels;
    RedisConnection *m_commands;
    QByteArray m_heartbeatPrefix; // envelope up to the nonce
    int m_staleMs;
    QTimer m_beat;
    int m_confirmed = 0;
    bool m_subscribed = false;
    quint64 m_nextNonce = 1;
    quint64 m_heardNonce = 0;
    qint64 m_subscribedAtMs = 0;
    std::deque<std::pair<quint64, qint64>> m_unheard; // heartbeats sent and not heard yet: nonce, sent at
};

} // namespace keyhole::proxy
