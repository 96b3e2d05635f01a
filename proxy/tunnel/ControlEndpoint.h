#pragma once

#include "tunnel/TunnelContext.h"

#include <QObject>

class QTcpSocket;
class QWebSocketServer;

namespace keyhole::proxy {

// Turns a visitor connection that asked for /proxy/subscribe into a client's control channel:
// QWebSocketServer completes the handshake (never listening itself), then a TunnelSession takes over.
class ControlEndpoint : public QObject
{
    Q_OBJECT

public:
    ControlEndpoint(const TunnelContext &context, QObject *parent = nullptr);

    void adopt(QTcpSocket *socket);
    // Says goodbye to every session; they delete themselves once closed.
    void shutdownSessions();

private:
    void onNewConnection();

    TunnelContext m_context;
    QWebSocketServer *m_server;
};

} // namespace keyhole::proxy
