#include "bus/redis/RedisReply.h"

#include <hiredis/hiredis.h>

namespace keyhole::proxy {

namespace {
constexpr int kMaxDepth = 4;
}

RedisReply RedisReply::failed(const QByteArray &reason)
{
    RedisReply reply;
    reply.type = Type::Failed;
    reply.text = reason;
    return reply;
}

RedisReply RedisReply::fromHiredis(const void *raw, int depth)
{
    const auto *r = static_cast<const redisReply *>(raw);
    RedisReply reply;
    if (!r)
        return failed("no reply");
    switch (r->type) {
    case REDIS_REPLY_STRING:
        reply.type = Type::String;
        reply.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_STATUS:
        reply.type = Type::Status;
        reply.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_ERROR:
        reply.type = Type::Error;
        reply.text = QByteArray(r->str, qsizetype(r->len));
        break;
    case REDIS_REPLY_INTEGER:
        reply.type = Type::Integer;
        reply.integer = r->integer;
        break;
    case REDIS_REPLY_NIL:
        reply.type = Type::Nil;
        break;
    case REDIS_REPLY_ARRAY:
        reply.type = Type::Array;
        if (depth < kMaxDepth) {
            reply.elements.reserve(qsizetype(r->elements));
            for (size_t i = 0; i < r->elements; ++i)
                reply.elements.append(fromHiredis(r->element[i], depth + 1));
        }
        break;
    default:
        return failed("unknown reply type");
    }
    return reply;
}

qint64 RedisReply::toInteger(bool *ok) const
{
    if (type == Type::Integer) {
        if (ok)
            *ok = true;
        return integer;
    }
    if (type == Type::String || type == Type::Status)
        return text.toLongLong(ok);
    if (ok)
        *ok = false;
    return 0;
}

QString RedisReply::describe() const
{
    switch (type) {
    case Type::Failed:
        return QStringLiteral("no reply (%1)").arg(QString::fromUtf8(text));
    case Type::Nil:
        return QStringLiteral("nil");
    case Type::Status:
    case Type::Error:
    case Type::String:
        return QString::fromUtf8(text.left(200));
    case Type::Integer:
        return QString::number(integer);
    case Type::Array:
        return QStringLiteral("array of %1").arg(elements.size());
    }
    return {};
}

} // namespace keyhole::proxy
