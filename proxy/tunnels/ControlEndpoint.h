#pragma once

#include "http/HttpMessageHead.h"
#include "tunnels/TunnelContext.h"

#include <QObject>

class QTcpSocket;

namespace keyhole::proxy {

// Turns a visitor connection that asked for /proxy/subscribe into a client's control channel: answers
// the WebSocket handshake the gateway has already read (101, or 400/426 and close), then a
// TunnelSession takes over the channel. Sessions are its children.
class ControlEndpoint : public QObject
{
    Q_OBJECT

public:
    ControlEndpoint(const TunnelContext &context, QObject *parent = nullptr);

    // Takes ownership of the socket; `request` is its upgrade request.
    void adopt(QTcpSocket *socket, const keyhole::http::RequestHead &request);
    // Says goodbye to every session; they delete themselves once closed.
    void shutdownSessions();
    // A reload: the per-tunnel limits of `options` (see TunnelSession::applyLimits) for every session,
    // and for those to come.
    void applyLimits(const TunnelOptions &options);

private:
    TunnelContext m_context;
};

} // namespace keyhole::proxy
