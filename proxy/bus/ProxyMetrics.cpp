#include "bus/ProxyMetrics.h"

namespace keyhole::proxy {

void ProxyMetrics::registerIn(util::MetricsRegistry &registry) const
{
    static const char *const routes[RouteCount] = {"host", "path", "ws", "proxy"};
    static const char *const classes[5] = {"1xx", "2xx", "3xx", "4xx", "5xx"};
    for (int route = 0; route < RouteCount; ++route) {
        for (int statusClass = 0; statusClass < 5; ++statusClass) {
            registry.addCounter("keyhole_requests_total",
                                "Visitor requests answered, by route (host: <label>.<domain>, path: /proxy/request/, "
                                "ws: WebSocket opened, proxy: the proxy's own pages) and status class.",
                                QByteArray("route=\"") + routes[route] + "\",code=\"" + classes[statusClass] + '"',
                                &requests[route][statusClass]);
        }
    }
    registry.addHistogram("keyhole_request_duration_seconds",
                          "Time from a visitor request's head to the end of its answer.", &requestDuration);

    static const char *const reasons[RegistrationCount] = {
        "",         "malformed", "bad_signature", "wrong_audience", "expired", "not_yet_valid", "unauthorized",
        "replayed", "busy",      "version"};
    for (int i = 0; i < RegistrationCount; ++i) {
        const QByteArray labels = i == RegistrationAccepted
            ? QByteArray("outcome=\"accepted\",reason=\"\"")
            : QByteArray("outcome=\"refused\",reason=\"") + reasons[i] + '"';
        registry.addCounter("keyhole_registrations_total", "Tunnel registrations by outcome and refusal reason.",
                            labels, &registrations[i]);
    }

    registry.addCounter("keyhole_visitor_connections_total", "Visitor connections accepted.", {}, &visitorConnections);
    registry.addCounter("keyhole_visitor_received_bytes_total",
                        "Bytes received from visitors: HTTP (after TLS) and WebSocket message payloads.", {},
                        &receivedBytes);
    registry.addCounter("keyhole_visitor_sent_bytes_total",
                        "Bytes sent to visitors: HTTP (before TLS) and WebSocket message payloads.", {}, &sentBytes);
    registry.addCounter("keyhole_websocket_opens_total", "Visitor WebSockets opened to a tunnel.", {}, &webSocketOpens);
    registry.addCounter("keyhole_websocket_messages_total", "WebSocket messages carried, by direction.",
                        "direction=\"to_service\"", &webSocketMessagesToService);
    registry.addCounter("keyhole_websocket_messages_total", "WebSocket messages carried, by direction.",
                        "direction=\"to_visitor\"", &webSocketMessagesToVisitor);
    registry.addCounter("keyhole_rate_limited_total", "Requests answered 429 by a tunnel's --rate-limit.", {},
                        &rateLimited);
    static const char *const refusals[RefusedCount] = {"max_pending", "max_websockets", "bodies_in_flight",
                                                       "client_slow", "max_connections"};
    for (int i = 0; i < RefusedCount; ++i) {
        registry.addCounter("keyhole_refused_total",
                            "Requests (503) or connections (max_connections) refused by a limit, by reason.",
                            QByteArray("reason=\"") + refusals[i] + '"', &refused[i]);
    }
}

ProxyMetrics &ProxyMetrics::unused()
{
    static ProxyMetrics metrics;
    return metrics;
}

} // namespace keyhole::proxy
