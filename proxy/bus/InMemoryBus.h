#pragma once

#include "bus/MessageBus.h"

#include <QHash>

namespace keyhole::proxy {

// The bus of a single instance: plain calls, no copies beyond the message itself.
class InMemoryBus : public MessageBus
{
    Q_OBJECT

public:
    explicit InMemoryBus(QObject *parent = nullptr);

    QByteArray instanceId() const override;
    void attachTunnel(const QString &label, TunnelSink *sink) override;
    void detachTunnel(const QString &label, TunnelSink *sink) override;
    void setVisitorSink(VisitorSink *sink) override;
    bool publishToTunnel(const QString &label, const protocol::Message &message) override;
    void replyToVisitor(const QByteArray &id, const protocol::Message &message) override;
    void failVisitorExchange(const ExchangeFailure &failure) override;
    int localTunnelCount() const override;
    bool congestedFor(const QString &label) const override;

private:
    QByteArray m_instanceId;
    QHash<QString, TunnelSink *> m_tunnels;
    VisitorSink *m_visitors = nullptr;
};

} // namespace keyhole::proxy
