#pragma once

#include "protocol/HeaderList.h"
#include "protocol/Messages.h"
#include "visitors/ResponseStream.h"

#include <QByteArray>

namespace keyhole::proxy {

class VisitorHost;

// What goes back to a visitor, as bytes: the proxy's framing of an answer (the service's or its own),
// apart from the connection that writes it and decides when.
struct VisitorResponse {
    int status = 200;
    protocol::HeaderList headers;
    QByteArray body;

    // The service's answer with what the proxy does not pass on (hop-by-hop, and Content-Length: the
    // proxy frames what it sends) removed.
    static VisitorResponse fromService(const protocol::HttpResponse &response, const QByteArray &method);
    // The service refused a visitor's WebSocket: its answer, with a status a visitor can be given.
    static VisitorResponse fromRefusedUpgrade(const protocol::WsResponse &response);
    // The proxy's own error page, carrying the request id the logs show.
    static VisitorResponse error(int status, const QString &message, const QByteArray &requestId, int retryAfterSecs);
    // The proxy's own pages on its own host: /healthz, / and a 404 for anything else.
    static VisitorResponse proxyPage(const QByteArray &method, const QByteArray &path, const VisitorHost &host);

    // The head as it goes on the wire. `bodyBytes`: how much of `body` follows it (none for HEAD, 204, 304);
    // the body is written apart, never copied behind the head.
    QByteArray encodeHead(const QByteArray &method, const QByteArray &requestId, bool close, bool http10,
                          qint64 *bodyBytes) const;
    // The head of a streamed answer (with a body): framed by `framing`, `length` for Framing::Length.
    QByteArray encodeStreamHead(const QByteArray &requestId, bool close, bool http10, ResponseStream::Framing framing,
                                qint64 length) const;

private:
    QByteArray encode(protocol::HeaderList out, const QByteArray &requestId, bool close, bool http10) const;
};

} // namespace keyhole::proxy
