#pragma once

#include "protocol/Messages.h"

#include <QByteArray>

namespace keyhole::proxy::redis {

// Request ids are "<instance>-<counter>": the instance that made one is where its answers go.
inline QByteArray instanceOf(const QByteArray &id)
{
    const qsizetype dash = id.indexOf('-');
    return dash > 0 ? id.left(dash) : QByteArray();
}

// Messages that start an exchange.
inline bool isOpening(const protocol::Message &message)
{
    return std::holds_alternative<protocol::HttpRequest>(message)
        || std::holds_alternative<protocol::WsRequest>(message);
}

} // namespace keyhole::proxy::redis
