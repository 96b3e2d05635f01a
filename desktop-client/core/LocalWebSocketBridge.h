#pragma once

#include "LocalWebSocket.h"
#include "RequestRecord.h"
#include "protocol/Messages.h"
#include "websocket/WebSocketFrame.h"

#include <QHash>
#include <QObject>

namespace keyhole::client {

// All WebSockets of one tunnel: opens a LocalWebSocket per WsRequest, routes WsMessage and
// WsTeardown to it by id, and passes on what they have to tell the proxy (responded, messages,
// teardowns), in the order they say it. Ids it does not know (already torn down) are ignored.
class LocalWebSocketBridge : public QObject
{
    Q_OBJECT

public:
    using Options = LocalWebSocket::Options;

    explicit LocalWebSocketBridge(const Options &options, QObject *parent = nullptr);
    ~LocalWebSocketBridge() override;

    const Options &options() const { return m_options; }
    // Applies to WebSockets opened afterwards.
    void setOptions(const Options &options) { m_options = options; }
    // Limits from a (new) registration: the proxy's body limit (also its WebSocket message limit)
    // and the handshake timeout.
    void setLimits(qint64 maxMessageBytes, int handshakeTimeoutMs);

    void open(const protocol::WsRequest &request);
    void deliver(const protocol::WsMessage &message);
    void teardown(const protocol::WsTeardown &teardown);
    // The control connection is gone: every local WebSocket closes with `code` (1001, going away);
    // nothing more is emitted towards the proxy for any of them.
    void closeAll(int code = websocket::CloseGoingAway, const QString &reason = QStringLiteral("going away"));

    int count() const { return m_sockets.size(); }
    LocalWebSocket *socket(const QByteArray &id) const { return m_sockets.value(id); }

Q_SIGNALS:
    void responded(const keyhole::protocol::WsResponse &response);
    void messageForProxy(const keyhole::protocol::WsMessage &message);
    void tornDown(const keyhole::protocol::WsTeardown &teardown);
    void activity(const keyhole::client::RequestRecord &record);

private:
    void forget(LocalWebSocket *socket);

    Options m_options;
    QHash<QByteArray, LocalWebSocket *> m_sockets;
};

} // namespace keyhole::client
