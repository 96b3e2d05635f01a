#pragma once

#include <QElapsedTimer>
#include <QObject>
#include <QTimer>

namespace keyhole::util {

// A one-shot deadline that is cheap to move. A connection moves its deadline several times per
// request (head, answer, idle); restarting a QTimer each time unregisters and registers a timer
// with the event loop. Here moving it later only stores the new due time: the timer, when it
// fires early, re-arms itself for the rest. Only an earlier deadline restarts the timer.
class LazyDeadline : public QObject
{
    Q_OBJECT

public:
    explicit LazyDeadline(QObject *parent = nullptr);

    void start(int ms); // expires ms from now, replacing any earlier start()
    void stop();
    bool isActive() const { return m_dueMs >= 0; }

signals:
    void expired();

private:
    void onTimer();

    QTimer m_timer;
    QElapsedTimer m_clock;
    qint64 m_dueMs = -1;      // when expired() is due, on m_clock; -1 when stopped
    qint64 m_timerDueMs = -1; // when m_timer fires, on m_clock
};

} // namespace keyhole::util
