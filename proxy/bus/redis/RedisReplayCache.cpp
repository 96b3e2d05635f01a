#include "bus/redis/RedisReplayCache.h"

#include "bus/redis/RedisConnection.h"
#include "bus/redis/RedisKeys.h"
#include "bus/BusLogging.h"

#include <QCryptographicHash>

namespace keyhole::proxy {

RedisReplayCache::RedisReplayCache(RedisConnection *commands, QObject *parent)
    : QObject(parent)
    , m_commands(commands)
{
}

void RedisReplayCache::remember(const QByteArray &key, qint64 ttlSecs, Done done)
{
    if (!m_commands->isReady()) {
        qCWarning(lcBus) << "Redis unreachable: registration token checked against this instance's cache only";
        done(Verdict::Fresh);
        return;
    }
    // Hashed: the key holds a thumbprint and a client-chosen id; neither belongs in Redis verbatim.
    const QByteArray digest = QCryptographicHash::hash(key, QCryptographicHash::Sha256).toHex();
    m_commands->command({QByteArrayLiteral("SET"), RedisKeys::jti(digest), QByteArrayLiteral("1"),
                         QByteArrayLiteral("NX"), QByteArrayLiteral("PX"), QByteArray::number(ttlSecs * 1000)},
                        this, [done = std::move(done)](const RedisReply &reply) {
                            if (reply.isNil()) {
                                done(Verdict::Replayed);
                                return;
                            }
                            if (reply.isError())
                                qCWarning(lcBus).noquote() << "shared replay check failed (" << reply.describe()
                                                           << "): this instance's cache only";
                            done(Verdict::Fresh);
                        });
}

} // namespace keyhole::proxy
