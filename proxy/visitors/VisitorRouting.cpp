#include "visitors/VisitorRouting.h"

#include "http/HeaderRules.h"
#include "visitors/VisitorOptions.h"
#include "protocol/Addressing.h"
#include "websocket/Handshake.h"

namespace keyhole::proxy {

namespace {
VisitorRouting refuse(VisitorRouting decision, int status, const QString &message)
{
    decision.action = VisitorRouting::Action::Refuse;
    decision.status = status;
    decision.message = message;
    return decision;
}
} // namespace

VisitorRouting VisitorRouting::decide(const http::RequestHead &head, bool http10, const HostRouter &router,
                                      const VisitorOptions &options)
{
    VisitorRouting decision;
    const QByteArray host = http::headerValue(head.headers, "Host");
    if (host.isEmpty() && !http10)
        return refuse(decision, 400, QStringLiteral("HTTP/1.1 requests need a Host header."));
    decision.routed = true;
    decision.route = router.route(host, head.path);

    // The parser serves an Upgrade other than websocket as plain HTTP; the control channel still
    // answers any handshake attempt itself (426 names the version it speaks).
    const bool controlHandshake = decision.route.kind == HostRouter::Kind::ProxySelf
        && head.path == protocol::kControlPath && http::headerHasToken(head.headers, "Connection", "upgrade");
    if (controlHandshake) {
        decision.action = Action::ControlChannel;
        return decision;
    }
    if (head.upgrade) {
        const bool toTunnel = decision.route.kind == HostRouter::Kind::Tunnel;
        if (!toTunnel || !http::headerHasToken(head.headers, "Upgrade", "websocket") || head.method != "GET")
            return refuse(decision, toTunnel ? 400 : 404,
                          QStringLiteral("Only WebSocket upgrades to a tunnel are supported here."));
        // A handshake we could not answer is refused before the service opens a socket for it.
        const websocket::handshake::ServerAnswer check = websocket::handshake::answerClientRequest(head);
        if (check.status != 101)
            return refuse(decision, check.status, check.error);
        decision.action = Action::Upgrade;
        return decision;
    }
    // Refused before anything is forwarded; a chunked body is counted as it flows (VisitorConnection).
    if (options.maxRequestBodyBytes > 0 && head.contentLength > options.maxRequestBodyBytes)
        return refuse(decision, 413,
                      QStringLiteral("The request body is larger than this proxy accepts (%1 bytes).")
                          .arg(options.maxRequestBodyBytes));
    decision.action = Action::ReadBody;
    return decision;
}

} // namespace keyhole::proxy
