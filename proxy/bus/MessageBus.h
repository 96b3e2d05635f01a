#pragma once

#include "protocol/Messages.h"
#include "util/TokenBucket.h"

#include <QObject>
#include <QString>

#include <memory>

namespace keyhole::crypto {
class ReplayCache;
}

namespace keyhole::proxy {

// Where a request for a tunnel goes: the session holding the client's control channel.
class TunnelSink
{
public:
    virtual ~TunnelSink() = default;
    // A message for the client (HttpRequest, later WsRequest/WsMessage/WsTeardown).
    virtual void deliverToTunnel(const protocol::Message &message) = 0;
    // True while what goes to this tunnel should wait: visitors stop being read until the bus's
    // flowResumed(). A sink emits that when it is no longer congested.
    virtual bool congested() const { return false; }
};

// A visitor-side exchange that could not be answered by the client.
struct ExchangeFailure {
    QByteArray id;
    int status = 502;
    QString reason;
    int retryAfterSecs = 0; // for 429/503; 0 = no Retry-After
};

// Where answers go: the visitor side of the instance that asked (found by the request id).
class VisitorSink
{
public:
    virtual ~VisitorSink() = default;
    virtual void deliverToVisitor(const protocol::Message &message) = 0;
    virtual void failExchange(const ExchangeFailure &failure) = 0;
};

struct BusHealth {
    bool healthy = true;
    QString detail = QStringLiteral("ok");
};

// The only way the visitor side and the tunnel side talk. The in-memory bus calls straight through
// on one host; a Redis bus can carry the same calls between instances. Request ids start with the
// id of the instance that made them, so answers find their way back without a lookup table.
// All calls happen on the proxy's main thread.
class MessageBus : public QObject
{
    Q_OBJECT

public:
    using QObject::QObject;

    // The instance's own id: a prefix of every request id it makes.
    virtual QByteArray instanceId() const = 0;

    // Tunnel side: this instance now holds `label` (replacing whatever held it here before).
    virtual void attachTunnel(const QString &label, TunnelSink *sink) = 0;
    virtual void detachTunnel(const QString &label, TunnelSink *sink) = 0;

    // Visitor side: the one receiver of answers on this instance.
    virtual void setVisitorSink(VisitorSink *sink) = 0;

    // Visitor side → tunnel. False when no instance holds the tunnel (the visitor gets 404).
    virtual bool publishToTunnel(const QString &label, const protocol::Message &message) = 0;
    // Tunnel side → the visitor side that made `id`.
    virtual void replyToVisitor(const QByteArray &id, const protocol::Message &message) = 0;
    virtual void failVisitorExchange(const ExchangeFailure &failure) = 0;

    virtual int localTunnelCount() const = 0;

    // What instances share besides messages. In memory: a plain token bucket per tunnel, and no
    // replay cache beyond the verifier's own.
    virtual std::unique_ptr<util::RateLimiter> rateLimiterFor(const QString &label, double ratePerSec, double burst,
                                                              const util::Clock *clock)
    {
        Q_UNUSED(label);
        return std::make_unique<util::TokenBucket>(ratePerSec, burst, clock);
    }
    virtual crypto::ReplayCache *sharedReplayCache() { return nullptr; }

    // For /healthz: false when this instance cannot take part (its Redis subscription is gone).
    virtual BusHealth health() const { return {}; }
    // Visitor side: true while what goes to `label` should wait (the instance holding it is behind).
    virtual bool congestedFor(const QString &label) const
    {
        Q_UNUSED(label);
        return false;
    }

Q_SIGNALS:
    // A newer registration on another instance took `label`: the local session must close ("replaced").
    void tunnelTakenElsewhere(const QString &label);
    // congestedFor() may have turned false: paused visitors can be read again. Also emitted by a local
    // TunnelSink whose congestion ended.
    void flowResumed();
};

} // namespace keyhole::proxy
