#include "net/ConnectionBudget.h"

namespace keyhole::proxy {

ConnectionBudget::ConnectionBudget(int capacity, QObject *parent)
    : QObject(parent)
    , m_capacity(capacity)
{
}

bool ConnectionBudget::admit(QObject *socket)
{
    if (!tryTake())
        return false;
    // The socket's descriptor is closed by the time QObject::destroyed is emitted.
    connect(socket, &QObject::destroyed, this, &ConnectionBudget::giveBack);
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
