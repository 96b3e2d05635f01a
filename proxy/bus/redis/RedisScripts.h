#pragma once

#include "bus/redis/RedisConnection.h"

#include <QByteArray>
#include <QList>

namespace keyhole::proxy {

// The Lua scripts that make each multi-step change atomic in Redis (no WATCH round trips), run by
// EVALSHA with a fallback to EVAL when Redis has forgotten them (restart, SCRIPT FLUSH).
class RedisScripts
{
public:
    enum class Script {
        Route,    // owner lookup + PUBLISH to the owner's inbox, with the owner's epoch put in the envelope
        Claim,    // INCR the epoch, take the owner key unless a newer registration holds it, announce it
        Renew,    // extend the owner key while it is still ours
        Release,  // delete the owner key if it is still ours
        RateLoad, // the shared token bucket, refilled up to Redis's clock
        RateSave,
    };

    static QByteArray source(Script script);
    static QByteArray sha1(Script script);

    // Loads every script on a fresh connection, ahead of the commands that use them.
    static void loadAll(RedisConnection *connection);
    static void run(RedisConnection *connection, Script script, const QList<QByteArray> &keys,
                    const QList<QByteArray> &args, QObject *context, RedisConnection::Callback done);
};

} // namespace keyhole::proxy
