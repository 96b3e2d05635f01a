#pragma once

#include "bus/MessageBus.h"

#include <QObject>

namespace keyhole::websocket {
class WebSocketChannel;
}

namespace keyhole::proxy {

class VisitorHost;

// One visitor WebSocket through a tunnel, after the local service accepted it and the visitor was
// answered 101. Carries messages both ways as WsMessage and closes with the code the other end gave
// (WsTeardown). Bounded both ways: towards the visitor its channel stops reading and cuts a visitor
// that does not read (1013 once kMaxQueuedBytes wait, the send timeout otherwise); towards the
// tunnel it stops reading the visitor while the tunnel is congested (MessageBus::congestedFor), and
// reads on at flowResumed(). Owns its channel; a child of the gateway, deletes itself once closed.
class VisitorWebSocket : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kMaxQueuedBytes = 8 << 20;

    VisitorWebSocket(const QByteArray &id, const QString &label, const QString &peer, const QByteArray &path,
                     websocket::WebSocketChannel *channel, VisitorHost *gateway, QObject *parent);
    ~VisitorWebSocket() override;

    QByteArray id() const { return m_id; }
    QString label() const { return m_label; }
    // The service's message, or its end of the socket.
    void fromTunnel(const protocol::WsMessage &message);
    void fromTunnel(const protocol::WsTeardown &teardown);
    // The tunnel is gone (1001) or failed this socket (1011).
    void fail(const ExchangeFailure &failure);
    // Keep-alive from the gateway's sweep: ping a live socket, cut a dead one.
    void keepAlive(qint64 deadAfterMs);
    // The bus may have room again for this socket's tunnel.
    void resumeReading();

private:
    void onMessage(const QByteArray &payload, bool binary);
    void onDisconnected();
    void closeBoth(int code, const QString &reason);
    void closeVisitor(int code, const QString &reason);
    void sendToVisitor(const protocol::WsMessage &message);

    QByteArray m_id;
    QString m_label;
    QString m_peer;
    QByteArray m_path;
    VisitorHost *m_gateway;
    websocket::WebSocketChannel *m_channel;
    bool m_teardownSent = false; // we told the tunnel it closed (or it told us)
    qint64 m_openedMs = 0;       // monotonic ms, from the options' clock
    qint64 m_lastHeardMs = 0;
    qint64 m_bytesIn = 0;  // visitor → service
    qint64 m_bytesOut = 0; // service → visitor
    qint64 m_messagesIn = 0;
    qint64 m_messagesOut = 0;
};

} // namespace keyhole::proxy
