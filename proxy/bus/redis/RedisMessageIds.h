#pragma once

#include "protocol/Messages.h"

#include <QByteArray>

namespace keyhole::proxy::redis {

// The exchange a message belongs to; empty for messages without one (Ping, Goodbye, ...).
inline QByteArray idOf(const protocol::Message &message)
{
    if (const auto *m = std::get_if<protocol::HttpRequest>(&message))
        return m->id;
    if (const auto *m = std::get_if<protocol::HttpResponse>(&message))
        return m->id;
    if (const auto *m = std::get_if<protocol::WsRequest>(&message))
        return m->id;
    if (const auto *m = std::get_if<protocol::WsResponse>(&message))
        return m->id;
    if (const auto *m = std::get_if<protocol::WsMessage>(&message))
        return m->id;
    if (const auto *m = std::get_if<protocol::WsTeardown>(&message))
        return m->id;
    return {};
}

// Request ids are "<instance>-<counter>": the instance that made one is where its answers go.
inline QByteArray instanceOf(const QByteArray &id)
{
    const qsizetype dash = id.indexOf('-');
    return dash > 0 ? id.left(dash) : QByteArray();
}

// Messages that start an exchange.
inline bool isOpening(const protocol::Message &message)
{
    return std::holds_alternative<protocol::HttpRequest>(message) || std::holds_alternative<protocol::WsRequest>(message);
}

} // namespace keyhole::proxy::redis
