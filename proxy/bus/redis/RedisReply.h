#pragma once

#include <QByteArray>
#include <QList>
#include <QString>

namespace keyhole::proxy {

// A Redis reply as a value: hiredis frees its own reply object when our callback returns, so what we
// keep is copied out. `Failed` is ours: no reply at all (not connected, timed out, connection lost).
struct RedisReply {
    enum class Type { Failed, Nil, Status, Error, Integer, String, Array };

    Type type = Type::Failed;
    QByteArray text; // Status, Error, String; for Failed the reason
    qint64 integer = 0;
    QList<RedisReply> elements;

    static RedisReply failed(const QByteArray &reason);
    // From a hiredis `redisReply *`; nesting beyond a few levels (never sent by our commands) is cut.
    static RedisReply fromHiredis(const void *reply, int depth = 0);

    bool isFailed() const { return type == Type::Failed; }
    bool isError() const { return type == Type::Error || type == Type::Failed; }
    bool isNil() const { return type == Type::Nil; }
    // Integer replies, and strings holding an integer (Lua returns both).
    qint64 toInteger(bool *ok = nullptr) const;
    QString describe() const; // for logs
};

} // namespace keyhole::proxy
