#pragma once

#include "visitors/HostRouter.h"
#include "http/HttpMessageHead.h"
#include "visitors/VisitorOptions.h"
#include "protocol/Messages.h"

namespace keyhole::proxy {

// What a visitor's request becomes on its way to the tunnel: the proxy's rules for the headers a
// service sees (Host, hop-by-hop, X-Forwarded-*), kept apart from the connection that read it.
struct TunnelRequest {
    QByteArray id;
    QString peer;             // the visitor's address, as logged and forwarded
    bool trustedPeer = false; // the peer is a trusted proxy: its X-Forwarded-* are kept
    bool tls = false;

    protocol::HttpRequest http(const http::RequestHead &head, QByteArray body, const HostRouter::Route &route,
                               const VisitorOptions &options) const;
    // A WebSocket upgrade: the handshake itself stays between the visitor and us.
    protocol::WsRequest upgrade(const http::RequestHead &head, const HostRouter::Route &route,
                                const VisitorOptions &options) const;

private:
    protocol::HeaderList headersFor(const http::RequestHead &head, const HostRouter::Route &route,
                                    const VisitorOptions &options) const;
};

} // namespace keyhole::proxy
