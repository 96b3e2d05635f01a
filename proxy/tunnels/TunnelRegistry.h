#pragma once

#include <QHash>
#include <QObject>
#include <QString>

namespace keyhole::proxy {

class MessageBus;
class TunnelSession;

// Which session holds which hostname label on this instance. The newest registration wins: the
// session it replaces is told so and closed. Publishes every change to the bus.
class TunnelRegistry : public QObject
{
    Q_OBJECT

public:
    TunnelRegistry(MessageBus *bus, QObject *parent = nullptr);

    void claim(const QString &label, TunnelSession *session);
    void release(const QString &label, TunnelSession *session);
    QList<TunnelSession *> sessions() const { return m_sessions.values(); }
    int count() const { return int(m_sessions.size()); }

private:
    MessageBus *m_bus;
    QHash<QString, TunnelSession *> m_sessions;
};

} // namespace keyhole::proxy
