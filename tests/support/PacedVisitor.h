#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QPair>
#include <QTcpSocket>
#include <QTimer>

namespace keyhole::testing {

// A visitor on a raw QTcpSocket that sends one request and reads the answer at a set pace (bytes per
// second; 0 = as fast as it comes). Qt's read buffer is kept small, so a paced visitor leaves what it has
// not read in the kernel and TCP pushes back on the sender, as a browser on a slow link does. Every read
// is stamped with monotonicNs(), so a test can tell when a given body byte arrived without polling.
class PacedVisitor : public QObject
{
    Q_OBJECT

public:
    explicit PacedVisitor(qint64 bytesPerSecond = 0, QObject *parent = nullptr);
    ~PacedVisitor() override;
    Q_DISABLE_COPY(PacedVisitor)

    // Connects to 127.0.0.1:`port` and writes `request` (a whole raw HTTP request).
    void start(quint16 port, const QByteArray &request);
    // Closes at once; with unread data in the kernel that is a reset, as when a browser tab is closed.
    void abort();

    bool isClosed() const { return m_closed; }
    QString errorString() const { return m_socket.errorString(); }

    bool hasHead() const { return !m_head.isEmpty(); }
    QByteArray head() const { return m_head; } // status line and headers, up to the blank line
    int status() const;
    QByteArray header(const QByteArray &name) const; // first value, case-insensitive; empty if absent

    // Bytes read after the head, as they came (chunk framing is not removed).
    qint64 bodyBytes() const { return m_bodyBytes; }
    // The first bytes of that (up to keepBytes, default 1 MiB).
    QByteArray body() const { return m_body; }
    void setKeepBytes(qint64 bytes) { m_keepBytes = bytes; }
    // monotonicNs() of the read that brought the body up to `bodyOffset` bytes; -1 if it has not come yet.
    qint64 arrivalNs(qint64 bodyOffset) const;

Q_SIGNALS:
    void closed();

private:
    void readAvailable();
    void consume(const QByteArray &data);

    QTcpSocket m_socket;
    QTimer m_pace;
    QElapsedTimer m_clock;
    qint64 m_rate = 0;
    qint64 m_consumed = 0;
    QByteArray m_pending; // bytes before the end of the head is seen
    QByteArray m_head;
    QByteArray m_body;
    qint64 m_keepBytes = 1024 * 1024;
    qint64 m_bodyBytes = 0;
    QList<QPair<qint64, qint64>> m_reads; // (monotonicNs, body bytes so far)
    bool m_closed = false;
};

} // namespace keyhole::testing
