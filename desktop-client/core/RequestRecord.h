#pragma once

#include "protocol/HeaderList.h"

#include <QByteArray>
#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace keyhole::client {

// Headers as the tunnel carries them (ordered name/value pairs, repeats kept), under the core's own
// names so the CLI and the tray app need nothing of the protocol.
using Header = protocol::Header;
using HeaderList = protocol::HeaderList;

// One visitor request as the client handled it: for the CLI's request log and the tray's inspector.
// Bodies are previews (the first kPreviewBytes, never a whole stream); the byte counts are the full
// sizes and the *Truncated flags say that a preview is shorter than its body.
// A WebSocket gives two records with the same id: one when it opens (or is refused) and one when it
// closes; for those the byte counts are message payload bytes and `method` is "GET".
struct RequestRecord {
    static constexpr qsizetype kPreviewBytes = 64 * 1024;

    enum class Kind { Http, WebSocket };
    enum class WsEvent {
        None,    // an HTTP request
        Opened,  // the local service accepted the WebSocket (status 101)
        Refused, // the handshake failed; `status` is what the visitor gets
        Closed,  // the WebSocket ended; closeCode/closeReason say how
    };

    Kind kind = Kind::Http;
    WsEvent wsEvent = WsEvent::None;

    QByteArray id;
    QByteArray method;
    QByteArray path;  // raw, without the query
    QByteArray query; // raw, without '?'
    QString remoteAddress;
    QDateTime startedAt;
    qint64 durationMs = 0;
    int status = 0;
    qint64 bytesIn = 0;         // request body bytes (visitor -> local service)
    qint64 bytesOut = 0;        // response body bytes (local service -> visitor)
    HeaderList requestHeaders;  // as sent to the local service
    HeaderList responseHeaders; // as sent back to the proxy
    QByteArray requestBodyPreview;
    QByteArray responseBodyPreview;
    bool requestBodyTruncated = false;
    bool responseBodyTruncated = false;
    QString error; // set when the client answered itself (502/504...) instead of the local service
    // The local service could not be reached or did not answer in time (refused, no route, no head
    // before the timeout): the whole path is down, not this one request.
    bool serviceUnreachable = false;

    // WebSockets only.
    QByteArray subprotocol;
    int closeCode = 0;
    QString closeReason;
    qint64 messagesIn = 0;  // visitor -> local service
    qint64 messagesOut = 0; // local service -> visitor
};

} // namespace keyhole::client

Q_DECLARE_METATYPE(keyhole::client::RequestRecord)
