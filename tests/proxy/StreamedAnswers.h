#pragma once

#include "FakeTunnelClient.h"

#include <QHash>
#include <QObject>

// The service behind a FakeTunnelClient that answers every request with a streamed body of `size`
// bytes, sending HttpBody chunks only as far as the proxy's HttpCredit lets it (as a real client
// must), and stopping at HttpCancel. Records what was sent and credited per exchange.
class StreamedAnswers : public QObject
{
    Q_OBJECT

public:
    StreamedAnswers(FakeTunnelClient *client, qint64 size, keyhole::protocol::HeaderList headers = {});

    qint64 sent(const QByteArray &id) const { return m_exchanges.value(id).sent; }
    qint64 credited(const QByteArray &id) const { return m_exchanges.value(id).credited; }
    bool cancelled(const QByteArray &id) const { return m_exchanges.value(id).cancelled; }
    qint64 totalCredited() const;

private:
    struct Exchange {
        qint64 sent = 0;
        qint64 credited = 0;
        bool ended = false;
        bool cancelled = false;
    };

    void onMessage();
    void pump(const QByteArray &id);

    FakeTunnelClient *m_client;
    qint64 m_size;
    keyhole::protocol::HeaderList m_headers;
    qsizetype m_seen = 0;
    QHash<QByteArray, Exchange> m_exchanges;
};
