#pragma once

#include "protocol/HeaderList.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>

namespace keyhole::http {

using protocol::HeaderList;

// Case-insensitive header lookups and the rules a proxy applies between hops.
bool headerNameEquals(QByteArrayView a, QByteArrayView b);
QByteArray headerValue(const HeaderList &headers, QByteArrayView name); // first match, or null
bool hasHeader(const HeaderList &headers, QByteArrayView name);
void removeHeader(HeaderList &headers, QByteArrayView name); // every occurrence
// True when a comma-separated header (Connection, Upgrade, Expect) contains `token` (case-insensitive).
bool headerHasToken(const HeaderList &headers, QByteArrayView name, QByteArrayView token);

// RFC 9110 7.6.1: Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
// Upgrade, Proxy-Authenticate/-Authorization, and every header the Connection header names.
bool isHopByHop(QByteArrayView name);
void removeHopByHop(HeaderList &headers);

// Sets X-Forwarded-For/-Proto/-Host for the next hop. Unless `visitorIsTrusted` (it is a proxy of
// ours), every header that claims a client address or an earlier hop (X-Forwarded-*, Forwarded,
// X-Real-IP, X-Client-IP, True-Client-IP) is dropped; from a trusted proxy its X-Forwarded-For is
// extended and the others are kept. Underscore spellings of these ("X_Real_IP") are always dropped.
void applyForwardedHeaders(HeaderList &headers, const QString &visitorAddress, bool visitorIsTrusted,
                           const QByteArray &proto, const QByteArray &host);

} // namespace keyhole::http
