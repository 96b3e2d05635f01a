#include "bus/redis/RedisOwnership.h"

#include "bus/redis/RedisConnection.h"
#include "bus/redis/RedisKeys.h"
#include "bus/redis/RedisScripts.h"
#include "bus/BusLogging.h"

#include <QDateTime>

namespace keyhole::proxy {

RedisOwnership::RedisOwnership(QByteArray instanceId, RedisConnection *commands, int ttlMs, QObject *parent)
    : QObject(parent)
    , m_instanceId(std::move(instanceId))
    , m_commands(commands)
    , m_ttlMs(ttlMs)
{
    connect(&m_renew, &QTimer::timeout, this, &RedisOwnership::renewAll);
    m_renew.start(qMax(100, ttlMs / 3));
}

QByteArray RedisOwnership::ownerKey(const QString &label)
{
    return RedisKeys::owner(label);
}

void RedisOwnership::attach(const QString &label, TunnelSink *sink)
{
    Local local;
    local.sink = sink;
    local.registeredAtMs = QDateTime::currentMSecsSinceEpoch();
    local.generation = m_nextGeneration++;
    const quint64 previous = m_local.value(label).epoch;
    local.epoch = previous; // until the new claim answers, frames for the old one still pass
    m_local.insert(label, local);
    claim(label);
}

void RedisOwnership::detach(const QString &label, TunnelSink *sink)
{
    auto it = m_local.find(label);
    if (it == m_local.end() || it->sink != sink)
        return;
    const QByteArray value = it->value;
    m_local.erase(it);
    if (!value.isEmpty() && m_commands->isReady())
        RedisScripts::run(m_commands, RedisScripts::Script::Release, {ownerKey(label)}, {value}, nullptr, {});
}

TunnelSink *RedisOwnership::sink(const QString &label) const
{
    const auto it = m_local.constFind(label);
    return it == m_local.constEnd() ? nullptr : it->sink;
}

quint64 RedisOwnership::epoch(const QString &label) const
{
    return m_local.value(label).epoch;
}

void RedisOwnership::claimAll()
{
    const auto labels = m_local.keys();
    for (const QString &label : labels)
        claim(label);
}

void RedisOwnership::claim(const QString &label)
{
    if (!m_commands->isReady())
        return; // claimAll() runs once the connection is back
    const Local &local = m_local[label];
    const quint64 generation = local.generation;
    RedisScripts::run(m_commands, RedisScripts::Script::Claim, {ownerKey(label), RedisKeys::epoch(label)},
                      {m_instanceId, QByteArray::number(local.registeredAtMs), QByteArray::number(m_ttlMs),
                       RedisKeys::claimsChannel(), label.toUtf8()},
                      this, [this, label, generation](const RedisReply &reply) {
                          auto it = m_local.find(label);
                          if (it == m_local.end() || it->generation != generation)
                              return; // detached or registered again meanwhile
                          if (reply.type != RedisReply::Type::Array || reply.elements.size() < 3) {
                              if (!reply.isFailed())
                                  qCWarning(lcBus).noquote() << "claim of" << label << "failed:" << reply.describe();
                              return; // the renewal tick or the next reconnect tries again
                          }
                          bool ok = false;
                          const qint64 won = reply.elements.at(0).toInteger(&ok);
                          const qint64 epoch = reply.elements.at(1).toInteger();
                          if (!ok || epoch <= 0)
                              return;
                          if (won == 0) {
                              qCInfo(lcBus).noquote() << "tunnel" << label << "was registered later on instance"
                                                      << reply.elements.at(2).text << ": replaced";
                              it->value.clear();
                              Q_EMIT taken(label);
                              return;
                          }
                          const quint64 previous = it->epoch;
                          it->epoch = quint64(epoch);
                          it->value = QByteArray::number(epoch) + ' ' + m_instanceId + ' '
                              + QByteArray::number(it->registeredAtMs);
                          qCDebug(lcBus).noquote() << "claimed" << label << "epoch" << epoch;
                          Q_EMIT claimed(label, quint64(epoch), previous);
                      });
}

void RedisOwnership::verify(const QString &label)
{
    auto it = m_local.find(label);
    if (it == m_local.end() || !m_commands->isReady())
        return;
    if (it->value.isEmpty()) {
        claim(label);
        return;
    }
    const quint64 generation = it->generation;
    RedisScripts::run(m_commands, RedisScripts::Script::Renew, {ownerKey(label)},
                      {it->value, QByteArray::number(m_ttlMs)}, this,
                      [this, label, generation](const RedisReply &reply) {
                          auto it = m_local.find(label);
                          if (it == m_local.end() || it->generation != generation || reply.isError())
                              return;
                          if (reply.toInteger() != 1) {
                              // Expired (Redis was frozen or restarted) or another claim: let the
                              // claim script decide whose registration is newer.
                              it->value.clear();
                              claim(label);
                          }
                      });
}

void RedisOwnership::renewAll()
{
    const auto labels = m_local.keys();
    for (const QString &label : labels)
        verify(label);
}

} // namespace keyhole::proxy
