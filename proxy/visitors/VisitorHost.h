#pragma once

#include "http/HttpMessageHead.h"

#include <QByteArray>
#include <QString>

class QTcpSocket;

namespace keyhole::proxy {

class HostRouter;
struct ProxyMetrics;
class MessageBus;
class VisitorConnection;
class VisitorWebSocket;
struct VisitorOptions;

// What a visitor's connection or WebSocket may ask of the side that owns it, and nothing more:
// VisitorGateway implements it; connections never see the gateway's bookkeeping.
class VisitorHost
{
public:
    virtual ~VisitorHost() = default;

    virtual const VisitorOptions &options() const = 0;
    virtual const HostRouter &router() const = 0;
    virtual MessageBus *bus() const = 0;
    virtual QByteArray nextRequestId() = 0;
    virtual bool shuttingDown() const = 0;
    // Answers for `id` go to `connection` until it is unregistered.
    virtual void registerPending(const QByteArray &id, VisitorConnection *connection) = 0;
    virtual void unregisterPending(const QByteArray &id) = 0;
    // A WebSocket to the control path: the connection gives its socket and request to the tunnel side.
    virtual void handOverControlChannel(QTcpSocket *socket, const http::RequestHead &request) = 0;
    // The local service accepted a visitor's WebSocket: answer the visitor's `handshake` (101 with the
    // service's subprotocol) and carry its messages. `afterHandshake`: frames the visitor sent behind
    // its request. Takes the socket; if the handshake cannot be completed the tunnel is told at once.
    virtual void acceptWebSocket(QTcpSocket *socket, const http::RequestHead &handshake,
                                 const QByteArray &afterHandshake, const QByteArray &id, const QString &label,
                                 const QString &peer, const QByteArray &path, const QByteArray &subprotocol) = 0;
    virtual void connectionClosed(VisitorConnection *connection) = 0;
    virtual void webSocketClosed(VisitorWebSocket *webSocket) = 0;
    virtual QByteArray healthReport() const = 0;
    // GET /metrics on the proxy's own host; empty when metrics are served elsewhere (--metrics-listen).
    virtual QByteArray metricsReport() const = 0;
    virtual ProxyMetrics &metrics() = 0;
    virtual bool healthy() const = 0;
    // The bus is behind for this connection's tunnel: read it again when the flow resumes.
    virtual void pauseForFlow(VisitorConnection *connection) = 0;
    virtual void pauseWebSocketForFlow(VisitorWebSocket *webSocket) = 0;
};

} // namespace keyhole::proxy
