#pragma once

#include <QLoggingCategory>

// One category per area; enable detail with QT_LOGGING_RULES="keyhole.*.debug=true".
Q_DECLARE_LOGGING_CATEGORY(lcProtocol)   // keyhole.protocol
Q_DECLARE_LOGGING_CATEGORY(lcCrypto)     // keyhole.crypto
Q_DECLARE_LOGGING_CATEGORY(lcHttp)       // keyhole.http
Q_DECLARE_LOGGING_CATEGORY(lcWebSocket)  // keyhole.websocket
Q_DECLARE_LOGGING_CATEGORY(lcProxy)      // keyhole.proxy
Q_DECLARE_LOGGING_CATEGORY(lcProxyHttp)  // keyhole.proxy.http
Q_DECLARE_LOGGING_CATEGORY(lcProxyTunnel) // keyhole.proxy.tunnel
Q_DECLARE_LOGGING_CATEGORY(lcBus)        // keyhole.proxy.bus
Q_DECLARE_LOGGING_CATEGORY(lcClient)     // keyhole.client
Q_DECLARE_LOGGING_CATEGORY(lcForwarder)  // keyhole.client.forwarder

namespace keyhole::util {

enum class LogFormat { Text, Json };

// Installs a message handler that writes one line per message to stderr: text
// ("2026-01-01T00:00:00.000Z info keyhole.proxy: ...") or one JSON object per line
// ({"ts":..,"level":..,"category":..,"msg":..}). Safe to call once at startup.
void installLogFormat(LogFormat format);

} // namespace keyhole::util
