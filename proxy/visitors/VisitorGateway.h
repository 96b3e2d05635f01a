#pragma once

#include "bus/MessageBus.h"
#include "bus/ProxyMetrics.h"
#include "bus/RequestIds.h"
#include "visitors/HostRouter.h"
#include "http/HttpMessageHead.h"
#include "visitors/VisitorHost.h"
#include "visitors/VisitorOptions.h"

#include <QHash>
#include <QObject>
#include <QSet>
#include <QTimer>
#include <QUrl>

#include <functional>

class QTcpSocket;

namespace keyhole::proxy {

class ConnectionBudget;
class VisitorConnection;
class VisitorWebSocket;

// The visitor side of one instance: owns the visitors' connections, gives requests their ids,
// and routes the bus's answers back to the connection that is waiting for them.
// Lives on the main thread; connections are its children.
class VisitorGateway : public QObject, public VisitorSink, public VisitorHost
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

    int webSocketCount() const { return int(m_webSockets.size()); }

    // VisitorHost: what its connections and WebSockets may ask.
    const VisitorOptions &options() const override { return m_options; }
    const HostRouter &router() const override { return m_router; }
    MessageBus *bus() const override { return m_bus; }
    QByteArray nextRequestId() override { return m_ids.next(); }
    bool shuttingDown() const override { return m_shuttingDown; }
    void registerPending(const QByteArray &id, VisitorConnection *connection) override;
    void unregisterPending(const QByteArray &id) override;
    void handOverControlChannel(QTcpSocket *socket, const http::RequestHead &request) override;
    void acceptWebSocket(QTcpSocket *socket, const http::RequestHead &handshake, const QByteArray &afterHandshake,
                         const QByteArray &id, const QString &label, const QString &peer, const QByteArray &path,
                         const QByteArray &subprotocol) override;
    void webSocketClosed(VisitorWebSocket *webSocket) override;
    void connectionClosed(VisitorConnection *connection) override;
    QByteArray healthReport() const override;
    QByteArray metricsReport() const override { return m_metricsReport ? m_metricsReport() : QByteArray(); }
    ProxyMetrics &metrics() override { return *m_metrics; }
    // Where this side counts, and what GET /metrics on the proxy's own host answers (unset: 404).
    void setMetrics(ProxyMetrics *metrics, std::function<QByteArray()> report)
    {
        m_metrics = metrics;
        m_metricsReport = std::move(report);
    }
    bool healthy() const override;
    void pauseForFlow(VisitorConnection *connection) override { m_paused.insert(connection); }
    void pauseWebSocketForFlow(VisitorWebSocket *webSocket) override { m_pausedWebSockets.insert(webSocket); }

    void deliverToVisitor(const protocol::Message &message) override;
    void failExchange(const ExchangeFailure &failure) override;

Q_SIGNALS:
    // A visitor connection turned out to be a client's control channel (WebSocket to /proxy/subscribe):
    // `request` is its upgrade request, already read; the handshake is not answered yet.
    void controlChannelRequested(QTcpSocket *socket, const keyhole::http::RequestHead &request);
    void idle(); // emitted during shutdown when no request is pending any more

private:
    const VisitorOptions m_options;
    ProxyMetrics *m_metrics = &ProxyMetrics::unused();
    std::function<QByteArray()> m_metricsReport;
    QUrl m_publicUrl;
    HostRouter m_router;
    MessageBus *m_bus;
    RequestIds m_ids;
    QHash<QByteArray, VisitorConnection *> m_pending;
    QSet<VisitorConnection *> m_connections;
    QSet<VisitorConnection *> m_paused;
    QHash<QByteArray, VisitorWebSocket *> m_webSockets;
    QSet<VisitorWebSocket *> m_pausedWebSockets; // waiting for flowResumed()
    QTimer m_keepAlive;                          // one sweep over all visitor WebSockets, not a timer each
    const ConnectionBudget *m_budget = nullptr;
    bool m_shuttingDown = false;
};

} // namespace keyhole::proxy
