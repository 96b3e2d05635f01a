#pragma once

#include <QByteArray>
#include <QHash>
#include <QObject>
#include <QTimer>

namespace keyhole::proxy {

// Credit-based flow control per destination instance, so that what we published and the other
// instance has not read yet stays well under Redis's pub/sub output-buffer limit (8 MB soft, 32 MB
// hard by default; past it Redis drops the subscriber and everything in flight with it).
//
// The sender counts bytes published to each instance; the receiver credits them back in chunks.
// Past `window` the destination is congested (visitor sockets for it stop being read); past
// `hardLimit` new messages to it are refused. A destination that stops crediting (it died, or
// its subscription was dropped and the bytes with it) is forgiven after `forgetMs`.
class RedisFlowControl : public QObject
{
    Q_OBJECT

public:
    struct Limits {
        qint64 window = 2 << 20;
        qint64 hardLimit = 6 << 20;
        qint64 creditChunk = 128 << 10;
        int creditFlushMs = 50;
        int forgetMs = 5000;
    };

    explicit RedisFlowControl(const Limits &limits, QObject *parent = nullptr);

    // Sender side. `destination` may be empty while not known yet.
    void sent(const QByteArray &destination, qint64 bytes);
    void undelivered(const QByteArray &destination, qint64 bytes);
    void moved(const QByteArray &from, const QByteArray &to, qint64 bytes);
    void credited(const QByteArray &destination, qint64 bytes);
    bool congested(const QByteArray &destination) const;
    bool overHardLimit(const QByteArray &destination) const;
    qint64 outstanding(const QByteArray &destination) const { return m_outstanding.value(destination); }
    void forgetAll();

    // Receiver side.
    void received(const QByteArray &source, qint64 bytes);

Q_SIGNALS:
    void creditDue(const QByteArray &source, qint64 bytes);
    void resumed(); // a congested destination has room again

private:
    void flushCredits();
    void sweep();
    void settle(const QByteArray &destination, bool wasCongested);

    Limits m_limits;
    QHash<QByteArray, qint64> m_outstanding;
    QHash<QByteArray, qint64> m_lastCreditMs;
    QHash<QByteArray, qint64> m_owed; // receiver side: bytes not credited back yet
    QTimer m_flush;
    QTimer m_sweep;
};

} // namespace keyhole::proxy
