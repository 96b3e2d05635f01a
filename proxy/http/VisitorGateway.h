#pragma once

#include "bus/MessageBus.h"
#include "bus/RequestIds.h"
#include "http/HostRouter.h"
#include "http/HttpMessageHead.h"
#include "http/VisitorOptions.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QUrl>

class QTcpSocket;

namespace keyhole::proxy {

class ConnectionBudget;
class VisitorConnection;
class VisitorWebSocket;

// The visitor side of one instance: owns the visitors' connections, gives requests their ids,
// and routes the bus's answers back to the connection that is waiting for them.
// Lives on the main thread; connections are its children.
class VisitorGateway : public QObject, public VisitorSink
{
    Q_OBJECT

public:
    VisitorGateway(VisitorOptions options, const QUrl &publicUrl, MessageBus *bus, QObject *parent = nullptr);
    ~VisitorGateway() override;

    // The count of every open socket (for /healthz); the listener enforces it.
    void setConnectionBudget(const ConnectionBudget *budget) { m_budget = budget; }
    // Takes ownership of a freshly accepted (and, with TLS, encrypted) socket, already counted against
    // the connection budget until it is destroyed: whoever it is handed to next just deletes it when done.
    void acceptConnection(QTcpSocket *socket, bool tls);
    // Graceful stop: idle connections close now, busy ones after their current answer.
    void beginShutdown();
    int connectionCount() const { return int(m_connections.size()); }
    int pendingCount() const { return int(m_pending.size()); }
    // Answer bytes queued in memory for visitors that have not read them yet.
    qint64 unsentBytes() const;

    // For VisitorConnection.
    const VisitorOptions &options() const { return m_options; }
    const HostRouter &router() const { return m_router; }
    MessageBus *bus() const { return m_bus; }
    QByteArray nextRequestId() { return m_ids.next(); }
    bool shuttingDown() const { return m_shuttingDown; }
    void registerPending(const QByteArray &id, VisitorConnection *connection);
    void unregisterPending(const QByteArray &id);
    void handOverControlChannel(QTcpSocket *socket, const http::RequestHead &request);
    // The local service accepted a visitor's WebSocket: answer the visitor's `handshake` (101 with the
    // service's subprotocol) and carry its messages. `afterHandshake`: frames the visitor sent behind
    // its request. Takes the socket; if the handshake cannot be completed the tunnel is told at once.
    void acceptWebSocket(QTcpSocket *socket, const http::RequestHead &handshake, const QByteArray &afterHandshake,
                         const QByteArray &id, const QString &label, const QString &peer, const QByteArray &path,
                         const QByteArray &subprotocol);
    void webSocketClosed(VisitorWebSocket *webSocket);
    int webSocketCount() const { return int(m_webSockets.size()); }
    void connectionClosed(VisitorConnection *connection);
    QByteArray healthReport() const;
    bool healthy() const;
    // The bus is behind for this connection's tunnel: read it again on flowResumed().
    void pauseForFlow(VisitorConnection *connection) { m_paused.insert(connection); }
    void pauseWebSocketForFlow(VisitorWebSocket *webSocket) { m_pausedWebSockets.insert(webSocket); }

    void deliverToVisitor(const protocol::Message &message) override;
    void failExchange(const ExchangeFailure &failure) override;

Q_SIGNALS:
    // A visitor connection turned out to be a client's control channel (WebSocket to /proxy/subscribe):
    // `request` is its upgrade request, already read; the handshake is not answered yet.
    void controlChannelRequested(QTcpSocket *socket, const keyhole::http::RequestHead &request);
    void idle(); // emitted during shutdown when no request is pending any more

private:
    const VisitorOptions m_options;
    QUrl m_publicUrl;
    HostRouter m_router;
    MessageBus *m_bus;
    RequestIds m_ids;
    QHash<QByteArray, VisitorConnection *> m_pending;
    QSet<VisitorConnection *> m_connections;
    QSet<VisitorConnection *> m_paused;
    QHash<QByteArray, VisitorWebSocket *> m_webSockets;
    QSet<VisitorWebSocket *> m_pausedWebSockets; // waiting for flowResumed()
    QTimer m_keepAlive; // one sweep over all visitor WebSockets, not a timer each
    const ConnectionBudget *m_budget = nullptr;
    bool m_shuttingDown = false;
};

} // namespace keyhole::proxy
