#pragma once

#include "http/HttpMessageHead.h"

#include <QByteArray>
#include <QString>
#include <QUrl>

// The RFC 6455 opening handshake (section 4), both ends. No extensions are offered or accepted, and
// the control channel uses no subprotocol; a visitor's WebSocket gets the one its service chose.
namespace keyhole::websocket::handshake {

// 16 random bytes, base64: a fresh Sec-WebSocket-Key.
QByteArray generateKey();
// base64(SHA-1(key + the RFC's GUID)): the Sec-WebSocket-Accept that proves the server read the key.
QByteArray acceptFor(const QByteArray &key);

// The client's upgrade request for a ws:// or wss:// URL.
QByteArray clientRequest(const QUrl &url, const QByteArray &key, const QByteArray &userAgent);
// Empty when `head` is a valid 101 answer to `key`; otherwise why it is not (starting with the
// status when the server refused, "404 Not Found").
QString checkServerResponse(const http::ResponseHead &head, const QByteArray &key);

struct ServerAnswer {
    int status = 0;   // 101, or 400/426 with a short text body
    QByteArray bytes; // the whole response to write
    QString error;    // why the request was refused
};
// The server's answer to an upgrade request, already parsed. `subprotocol` (the one the service
// behind us chose) is named in the 101 only if the client offered it, as a server may not pick one
// the client did not ask for (RFC 6455 4.2.2).
ServerAnswer answerClientRequest(const http::RequestHead &head, const QByteArray &subprotocol = {});

} // namespace keyhole::websocket::handshake
