#pragma once

#include <QByteArray>
#include <QString>

namespace keyhole::proxy {

// Every key and channel name Keyhole uses in Redis, in one place (docs/SCALE-OUT.md lists them).
namespace RedisKeys {

inline QByteArray owner(const QString &label)
{
    return "keyhole:owner:" + label.toUtf8();
}
inline QByteArray epoch(const QString &label)
{
    return "keyhole:epoch:" + label.toUtf8();
}
inline QByteArray rate(const QString &label)
{
    return "keyhole:rate:" + label.toUtf8();
}
inline QByteArray jti(const QByteArray &digestHex)
{
    return "keyhole:jti:" + digestHex;
}
inline QByteArray inboxPrefix()
{
    return QByteArrayLiteral("keyhole:inbox:");
}
inline QByteArray inbox(const QByteArray &instance)
{
    return inboxPrefix() + instance;
}
inline QByteArray claimsChannel()
{
    return QByteArrayLiteral("keyhole:claims");
}

} // namespace RedisKeys

} // namespace keyhole::proxy
