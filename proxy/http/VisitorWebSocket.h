#pragma once

#include "bus/MessageBus.h"

#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

class QTcpSocket;
class QWebSocket;

namespace keyhole::proxy {

class VisitorGateway;

// One visitor WebSocket through a tunnel, after the local service accepted it. Carries messages
// both ways as WsMessage, closes with the code the other end gave (WsTeardown), and buffers what
// the client sends before the visitor's handshake has completed — boundedly.
class VisitorWebSocket : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kMaxQueuedBytes = 8 << 20;

    VisitorWebSocket(const QByteArray &id, const QString &label, const QString &peer, const QByteArray &path,
                     VisitorGateway *gateway);
    ~VisitorWebSocket() override;

    QByteArray id() const { return m_id; }
    // The handshake is done: from now on messages flow.
    void attach(QWebSocket *socket);
    void fromTunnel(const protocol::Message &message);
    // The tunnel is gone (1001) or failed this socket (1011).
    void fail(const ExchangeFailure &failure);
    // Keep-alive from the gateway's sweep: ping a live socket, cut a dead one.
    void keepAlive(qint64 deadAfterMs);

private:
    void onMessage(const QByteArray &payload, bool binary);
    void onDisconnected();
    void closeBoth(int code, const QString &reason);
    void sendToVisitor(const protocol::WsMessage &message);

    QByteArray m_id;
    QString m_label;
    QString m_peer;
    QByteArray m_path;
    VisitorGateway *m_gateway;
    QPointer<QWebSocket> m_socket;
    QList<protocol::WsMessage> m_queued; // from the tunnel, before the handshake completed
    qint64 m_queuedBytes = 0;
    bool m_teardownSent = false;    // we told the tunnel it closed
    bool m_closedByTunnel = false;  // the tunnel told us
    QElapsedTimer m_opened;
    QElapsedTimer m_lastHeard;
    qint64 m_bytesIn = 0;  // visitor → service
    qint64 m_bytesOut = 0; // service → visitor
    qint64 m_messagesIn = 0;
    qint64 m_messagesOut = 0;
};

} // namespace keyhole::proxy
