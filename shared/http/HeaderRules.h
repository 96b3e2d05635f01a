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
void removeHeader(HeaderList &headers, QByteArrayView name);          // every occurrence
// True when a comma-separated header (Connection, Upgrade, Expect) contains `token` (case-insensitive).
bool headerHasToken(const HeaderList &headers, QByteArrayView name, QByteArrayView token);

// RFC 9110 7.6.1: Connection, Keep-Alive, Proxy-Connection, TE, Trailer, Transfer-Encoding,
// Upgrade, Proxy-Authenticate/-Authorization, and every header the Connection header names.
bool isHopByHop(QByteArrayView name);
void removeHopByHop(HeaderList &headers);

// Sets X-Forwarded-For/-Proto/-Host for the next hop. Values the visitor sent are dropped unless
// `visitorIsTrusted` (it is a proxy of ours): then its X-Forwarded-For is extended and its
// -Proto/-Host are kept.
void applyForwardedHeaders(HeaderList &headers, const QString &visitorAddress, bool visitorIsTrusted,
                           const QByteArray &proto, const QByteArray &host);

} // namespace keyhole::http
