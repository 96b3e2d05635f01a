#include "bus/RequestIds.h"

#include <QRandomGenerator>

namespace keyhole::proxy {

RequestIds::RequestIds(QByteArray instanceId)
    : m_prefix(std::move(instanceId) + '-')
{
}

QByteArray RequestIds::next()
{
    return m_prefix + QByteArray::number(++m_counter, 36);
}

QByteArray RequestIds::newInstanceId()
{
    const quint64 value = QRandomGenerator::system()->generate64();
    return QByteArray::number(value & 0xffffffffffffULL, 16).rightJustified(12, '0');
}

} // namespace keyhole::proxy
