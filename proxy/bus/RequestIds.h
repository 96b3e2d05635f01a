#pragma once

#include <QByteArray>

namespace keyhole::proxy {

// Request ids: "<instance id>-<counter>", e.g. "7f3a9c01d2e4-1a". The random instance id keeps ids
// unique across proxy instances and restarts and tells a bus where the answer goes.
class RequestIds
{
public:
    explicit RequestIds(QByteArray instanceId);

    QByteArray next();
    static QByteArray newInstanceId(); // 12 lowercase hex characters

private:
    QByteArray m_prefix;
    quint64 m_counter = 0;
};

} // namespace keyhole::proxy
