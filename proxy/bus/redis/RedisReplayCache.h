#pragma once

#include "crypto/ReplayCache.h"

#include <QObject>

namespace keyhole::proxy {

class RedisConnection;

// The registration replay cache shared by every instance: SET keyhole:jti:<sha256> 1 NX PX <ttl>.
// When Redis cannot answer, the verifier's own in-memory cache (checked first) is all there is:
// registration keeps working on each instance, and the log says so.
class RedisReplayCache : public QObject, public crypto::ReplayCache
{
    Q_OBJECT

public:
    explicit RedisReplayCache(RedisConnection *commands, QObject *parent = nullptr);

    void remember(const QByteArray &key, qint64 ttlSecs, Done done) override;

private:
    RedisConnection *m_commands;
};

} // namespace keyhole::proxy
