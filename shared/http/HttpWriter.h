#pragma once

#include "protocol/HeaderList.h"

#include <QByteArray>

namespace keyhole::http {

using protocol::HeaderList;

// Serialises HTTP/1.1 heads. Content-Length/Transfer-Encoding are the caller's: pass them in
// `headers` (they are written as given).
QByteArray reasonPhrase(int status);                            // "Not Found"; "Unknown" for codes without one
QByteArray responseHead(int status, const HeaderList &headers); // "HTTP/1.1 ..\r\n..\r\n\r\n"
QByteArray requestHead(const QByteArray &method, const QByteArray &target, const HeaderList &headers);
// True when a response with this status to this method never has a body (HEAD, 1xx, 204, 304).
bool responseHasNoBody(const QByteArray &requestMethod, int status);

} // namespace keyhole::http
