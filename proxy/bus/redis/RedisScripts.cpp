#include "bus/redis/RedisScripts.h"

#include <QCryptographicHash>
#include <QHash>
#include <QPointer>

namespace keyhole::proxy {

namespace {

// Owner values are "<epoch> <instance> <registered at, ms since the epoch>". Epochs are below 2^53,
// so Lua's doubles hold them exactly; be64 writes one as the envelope's 8-byte big-endian field.
const char kRoute[] = R"lua(
local v = redis.call('GET', KEYS[1])
if not v then return {-1, '', ''} end
local epoch, inst = string.match(v, '^(%d+) (%S+)')
if not epoch then return {-1, '', ''} end
local n = tonumber(epoch)
local b = {}
for i = 8, 1, -1 do b[i] = string.char(n % 256); n = math.floor(n / 256) end
local delivered = redis.call('PUBLISH', ARGV[3] .. inst, ARGV[1] .. table.concat(b) .. ARGV[2])
return {delivered, inst, epoch}
)lua";

// The newest registration wins across instances: a claim loses only to a holder registered later.
// A missing epoch counter starts at Redis's clock in ms, so epochs keep growing across a Redis
// restart without persistence (or the counter's expiry after a week unused).
const char kClaim[] = R"lua(
local cur = redis.call('GET', KEYS[1])
local prev = ''
if cur then
  local e, inst, at = string.match(cur, '^(%d+) (%S+) (%d+)$')
  if inst and inst ~= ARGV[1] and tonumber(at) > tonumber(ARGV[2]) then
    return {0, e, inst}
  end
  prev = inst or ''
end
if redis.call('EXISTS', KEYS[2]) == 0 then
  local t = redis.call('TIME')
  redis.call('SET', KEYS[2], t[1] .. string.format('%03d', math.floor(tonumber(t[2]) / 1000)))
end
local epoch = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], 604800000)
redis.call('SET', KEYS[1], epoch .. ' ' .. ARGV[1] .. ' ' .. ARGV[2], 'PX', ARGV[3])
redis.call('PUBLISH', ARGV[4], ARGV[5] .. ' ' .. epoch .. ' ' .. ARGV[1])
return {1, tostring(epoch), prev}
)lua";

const char kRenew[] = R"lua(
local cur = redis.call('GET', KEYS[1])
if cur == ARGV[1] then
  redis.call('PEXPIRE', KEYS[1], ARGV[2])
  return 1
end
if not cur then return 0 end
return -1
)lua";

const char kRelease[] = R"lua(
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
)lua";

const char kRateLoad[] = R"lua(
local v = redis.call('HMGET', KEYS[1], 'tokens', 'at')
if not v[1] or not v[2] then return false end
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
local tokens = tonumber(v[1]) + math.max(0, now - tonumber(v[2])) * tonumber(ARGV[1]) / 1000
return tostring(math.min(tonumber(ARGV[2]), tokens))
)lua";

const char kRateSave[] = R"lua(
local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
redis.call('HSET', KEYS[1], 'tokens', ARGV[1], 'at', now)
redis.call('PEXPIRE', KEYS[1], ARGV[2])
return 1
)lua";

constexpr RedisScripts::Script kAll[] = {RedisScripts::Script::Route,    RedisScripts::Script::Claim,
                                         RedisScripts::Script::Renew,    RedisScripts::Script::Release,
                                         RedisScripts::Script::RateLoad, RedisScripts::Script::RateSave};

QList<QByteArray> evalArgs(const QByteArray &head, const QList<QByteArray> &keys, const QList<QByteArray> &args)
{
    QList<QByteArray> all;
    all.reserve(3 + keys.size() + args.size());
    all << QByteArrayLiteral("EVALSHA") << head << QByteArray::number(keys.size());
    all += keys;
    all += args;
    return all;
}

} // namespace

QByteArray RedisScripts::source(Script script)
{
    switch (script) {
    case Script::Route:
        return QByteArray(kRoute);
    case Script::Claim:
        return QByteArray(kClaim);
    case Script::Renew:
        return QByteArray(kRenew);
    case Script::Release:
        return QByteArray(kRelease);
    case Script::RateLoad:
        return QByteArray(kRateLoad);
    case Script::RateSave:
        return QByteArray(kRateSave);
    }
    return {};
}

QByteArray RedisScripts::sha1(Script script)
{
    static QHash<int, QByteArray> cache;
    auto it = cache.find(int(script));
    if (it == cache.end())
        it = cache.insert(int(script), QCryptographicHash::hash(source(script), QCryptographicHash::Sha1).toHex());
    return it.value();
}

void RedisScripts::loadAll(RedisConnection *connection)
{
    for (Script script : kAll)
        connection->command({QByteArrayLiteral("SCRIPT"), QByteArrayLiteral("LOAD"), source(script)});
}

void RedisScripts::run(RedisConnection *connection, Script script, const QList<QByteArray> &keys,
                       const QList<QByteArray> &args, QObject *context, RedisConnection::Callback done)
{
    QPointer<RedisConnection> guard(connection);
    connection->command(evalArgs(sha1(script), keys, args), context,
                        [guard, script, keys, args, context, done = std::move(done)](const RedisReply &reply) mutable {
                            if (reply.type == RedisReply::Type::Error && reply.text.startsWith("NOSCRIPT") && guard) {
                                QList<QByteArray> again = evalArgs(source(script), keys, args);
                                again[0] = QByteArrayLiteral("EVAL");
                                guard->command(again, context, std::move(done));
                                return;
                            }
                            if (done)
                                done(reply);
                        });
}

} // namespace keyhole::proxy
