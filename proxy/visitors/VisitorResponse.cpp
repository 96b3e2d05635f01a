#include "visitors/VisitorResponse.h"

#include "visitors/ErrorPage.h"
#include "http/HeaderRules.h"
#include "http/HttpWriter.h"
#include "visitors/VisitorHost.h"
#include "visitors/VisitorOptions.h"
#include "util/MetricsRenderer.h"

namespace keyhole::proxy {

namespace {
const QByteArray kRequestIdHeader = QByteArrayLiteral("X-Keyhole-Request-Id");
}

VisitorResponse VisitorResponse::fromService(const protocol::HttpResponse &response, const QByteArray &method)
{
    VisitorResponse answer{response.status, response.headers, response.body};
    http::removeHopByHop(answer.headers);
    if (method != "HEAD")
        http::removeHeader(answer.headers, "Content-Length"); // we frame the body we send
    return answer;
}

VisitorResponse VisitorResponse::fromRefusedUpgrade(const protocol::WsResponse &response)
{
    VisitorResponse answer{response.status, response.headers, response.body};
    http::removeHopByHop(answer.headers);
    http::removeHeader(answer.headers, "Content-Length");
    if (response.status < 200 || response.status > 999 || response.status == 101)
        answer.status = 502;
    return answer;
}

VisitorResponse VisitorResponse::error(int status, const QString &message, const QByteArray &requestId,
                                       int retryAfterSecs)
{
    ErrorPage page = ErrorPage::make(status, message, requestId);
    if (retryAfterSecs > 0)
        page.headers.append({QByteArrayLiteral("Retry-After"), QByteArray::number(retryAfterSecs)});
    return {status, std::move(page.headers), std::move(page.body)};
}

VisitorResponse VisitorResponse::proxyPage(const QByteArray &method, const QByteArray &path, const VisitorHost &host)
{
    const bool get = method == "GET" || method == "HEAD";
    if (get && path == "/healthz") {
        // 503 takes an instance that cannot reach the others out of a load balancer's rotation.
        return {host.healthy() ? 200 : 503,
                {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("application/json")}},
                host.healthReport()};
    }
    if (get && (path == "/metrics" || path.startsWith("/metrics?"))) {
        QByteArray report = host.metricsReport();
        if (!report.isEmpty())
            return {
                200, {{QByteArrayLiteral("Content-Type"), util::MetricsRenderer::contentType()}}, std::move(report)};
    }
    if (get && path == "/") {
        return {200,
                {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; charset=utf-8")}},
                QByteArrayLiteral("This is a Keyhole proxy. Tunnels are served at <label>.")
                    + host.options().domain.toUtf8() + '\n'};
    }
    return {404, {}, {}}; // the connection makes it an error page with the request's id
}

QByteArray VisitorResponse::encodeHead(const QByteArray &method, const QByteArray &requestId, bool close, bool http10,
                                       qint64 *bodyBytes) const
{
    protocol::HeaderList out = headers;
    const bool noBody = http::responseHasNoBody(method, status);
    if (!noBody)
        out.append({QByteArrayLiteral("Content-Length"), QByteArray::number(body.size())});
    *bodyBytes = noBody ? 0 : body.size();
    return encode(std::move(out), requestId, close, http10);
}

QByteArray VisitorResponse::encodeStreamHead(const QByteArray &requestId, bool close, bool http10,
                                             ResponseStream::Framing framing, qint64 length) const
{
    protocol::HeaderList out = headers;
    if (framing == ResponseStream::Framing::Length)
        out.append({QByteArrayLiteral("Content-Length"), QByteArray::number(length)});
    else if (framing == ResponseStream::Framing::Chunked)
        out.append({QByteArrayLiteral("Transfer-Encoding"), QByteArrayLiteral("chunked")});
    return encode(std::move(out), requestId, close, http10);
}

QByteArray VisitorResponse::encode(protocol::HeaderList out, const QByteArray &requestId, bool close, bool http10) const
{
    out.append({kRequestIdHeader, requestId});
    if (close)
        out.append({QByteArrayLiteral("Connection"), QByteArrayLiteral("close")});
    else if (http10)
        out.append({QByteArrayLiteral("Connection"), QByteArrayLiteral("keep-alive")});
    return http::responseHead(status, out);
}

} // namespace keyhole::proxy
