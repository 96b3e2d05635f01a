#pragma once

#include "protocol/Messages.h"

#include <QByteArray>
#include <QString>

class QUrl;

// Where things are: the one definition of each naming rule both sides rely on.
namespace keyhole::protocol {

// The path of the control channel, the WebSocket a client opens on the proxy (docs/PROTOCOL.md).
inline constexpr char kControlPath[] = "/proxy/subscribe";

// A tunnel's public host name: its label under the proxy's domain.
QString tunnelHostName(const QString &label, const QString &domain);

// "host:port" of an http(s)/ws(s) URL, the port always present (443 for https/wss, else 80 when the URL
// has none) and an IPv6 host in brackets: what a Host header or a log line names.
QString hostAndPort(const QUrl &url);

// The exchange (request, WebSocket) a message belongs to; empty for messages without one (Ping, Goodbye, ...).
QByteArray exchangeIdOf(const Message &message);

} // namespace keyhole::protocol
