#pragma once

#include <QObject>

namespace keyhole::proxy {

// The one count of open sockets behind --max-connections: every socket the proxy holds (visitor
// HTTP, visitor WebSocket, client control channel, TLS handshake in progress) takes a slot when it
// is accepted and gives it back when the socket object is destroyed, whoever owns it by then. The
// listener admits sockets; owners that adopt them later need do nothing but delete them when done.
// Sockets made elsewhere can take and give back a slot by hand. Main thread only.
class ConnectionBudget : public QObject
{
    Q_OBJECT

public:
    explicit ConnectionBudget(int capacity, QObject *parent = nullptr);

    // Counts `socket` until it is destroyed; false, and nothing counted, when the budget is spent.
    bool admit(QObject *socket);
    bool tryTake();
    void giveBack();

    int used() const { return m_used; }
    int capacity() const { return m_capacity; }

Q_SIGNALS:
    // A slot, and so a file descriptor, was freed: a listener paused by EMFILE can accept again.
    void released();

private:
    int m_capacity;
    int m_used = 0;
};

} // namespace keyhole::proxy
