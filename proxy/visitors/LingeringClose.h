#pragma once

#include <QObject>
#include <QTimer>

class QTcpSocket;

namespace keyhole::proxy {

// Ends a visitor connection the way RFC 9112 9.6 asks and nginx does ("lingering close"): once
// everything queued has left Qt's buffers, send FIN at once (shutdown of the sending side, so the
// visitor sees EOF right after the answer), then read and discard what the visitor still sends,
// for at most `lingerMs` and `maxDrainBytes`, and report finished(). Closing straight away with
// unread bytes would make the kernel answer with RST, which can destroy the answer in flight.
//
// QAbstractSocket has no half-close, so this is the one place that touches the descriptor:
// shutdown(SHUT_WR), SD_SEND on Windows. TLS falls back to a full close (Qt's, with close_notify,
// after the answer): QSslSocket does not tell when its encrypted output has really left. If the
// descriptor cannot be shut down, finished() comes at once: close fully.
//
// Owned by its parent (the connection); the socket is only watched, never deleted here.
class LingeringClose : public QObject
{
    Q_OBJECT

public:
    // `flushTimeoutMs` bounds the wait for a visitor that does not read the answer.
    LingeringClose(QTcpSocket *socket, int flushTimeoutMs, int lingerMs, qint64 maxDrainBytes, QObject *parent);

    bool halfClosed() const { return m_halfClosed; }

Q_SIGNALS:
    void finished(); // close the socket now: the visitor closed, or the time or byte budget ran out

private:
    void tryHalfClose();
    void discardInput();
    void finish();

    QTcpSocket *m_socket;
    QTimer m_timer;
    int m_lingerMs;
    qint64 m_drainBudget;
    bool m_halfClosed = false;
    bool m_finished = false;
};

} // namespace keyhole::proxy
