#include "bus/ConnectionBudget.h"

#include <QPointer>

namespace keyhole::proxy {

namespace {
// A child of the counted socket that gives the slot back when the socket is destroyed (its
// descriptor closed by then). A child rather than a connection to QObject::destroyed, which
// QWebSocket removes with everything else when it lets go of the socket it was upgraded from.
class Slot : public QObject
{
public:
    Slot(ConnectionBudget *budget, QObject *socket)
        : QObject(socket)
        , m_budget(budget)
    {
    }
    ~Slot() override
    {
        if (m_budget)
            m_budget->giveBack();
    }

private:
    QPointer<ConnectionBudget> m_budget;
};
} // namespace

ConnectionBudget::ConnectionBudget(int capacity, QObject *parent)
    : QObject(parent)
    , m_capacity(capacity)
{
}

bool ConnectionBudget::admit(QObject *socket)
{
    if (!tryTake())
        return false;
    new Slot(this, socket);
    return true;
}

bool ConnectionBudget::tryTake()
{
    if (m_used >= m_capacity)
        return false;
    ++m_used;
    return true;
}

void ConnectionBudget::giveBack()
{
    Q_ASSERT(m_used > 0);
    if (m_used > 0)
        --m_used;
    Q_EMIT released();
}

} // namespace keyhole::proxy
