#include "visitors/TunnelRequest.h"

#include "http/HeaderRules.h"
#include "protocol/Addressing.h"

namespace keyhole::proxy {

protocol::HeaderList TunnelRequest::headersFor(const http::RequestHead &head, const HostRouter::Route &route,
                                               const VisitorOptions &options) const
{
    protocol::HeaderList headers = head.headers;
    http::removeHopByHop(headers);
    QByteArray host = http::headerValue(head.headers, "Host");
    if (route.pathRouted) {
        // The service sees its tunnel's own name, never one the visitor chose: with path routing
        // the Host is the proxy's (or anything that is not under our domain).
        host = protocol::tunnelHostName(route.label, options.domain).toLatin1();
        http::removeHeader(headers, "Host");
        headers.prepend({QByteArrayLiteral("Host"), host});
    }
    http::applyForwardedHeaders(headers, peer, trustedPeer,
                                tls ? QByteArrayLiteral("https") : QByteArrayLiteral("http"), host);
    return headers;
}

protocol::HttpRequest TunnelRequest::http(const http::RequestHead &head, QByteArray body,
                                          const HostRouter::Route &route, const VisitorOptions &options) const
{
    protocol::HttpRequest request;
    request.id = id;
    request.method = head.method;
    request.path = route.path;
    request.query = head.query;
    request.headers = headersFor(head, route, options);
    request.body = std::move(body);
    request.remoteAddress = peer;
    return request;
}

protocol::WsRequest TunnelRequest::upgrade(const http::RequestHead &head, const HostRouter::Route &route,
                                           const VisitorOptions &options) const
{
    protocol::WsRequest request;
    request.id = id;
    request.path = route.path;
    request.query = head.query;
    request.headers = headersFor(head, route, options);
    // The handshake is between the visitor and us, and between the client and the service.
    for (const char *name :
         {"Sec-WebSocket-Key", "Sec-WebSocket-Version", "Sec-WebSocket-Extensions", "Sec-WebSocket-Accept"})
        http::removeHeader(request.headers, name);
    request.remoteAddress = peer;
    return request;
}

} // namespace keyhole::proxy
