#pragma once

#include "protocol/HeaderList.h"

#include <QByteArray>
#include <QDateTime>
#include <QMetaType>
#include <QString>

namespace keyhole::client {

// One visitor request as the client handled it: for the CLI's request log and the tray's inspector.
// Bodies are previews (the first kPreviewBytes); the byte counts are the full sizes.
struct RequestRecord {
    static constexpr qsizetype kPreviewBytes = 4096;

    QByteArray id;
    QByteArray method;
    QByteArray path;  // raw, without the query
    QByteArray query; // raw, without '?'
    QString remoteAddress;
    QDateTime startedAt;
    qint64 durationMs = 0;
    int status = 0;
    qint64 bytesIn = 0;  // request body bytes (visitor -> local service)
    qint64 bytesOut = 0; // response body bytes (local service -> visitor)
    protocol::HeaderList requestHeaders;  // as sent to the local service
    protocol::HeaderList responseHeaders; // as sent back to the proxy
    QByteArray requestBodyPreview;
    QByteArray responseBodyPreview;
    QString error; // set when the client answered itself (502/504...) instead of the local service
};

} // namespace keyhole::client

Q_DECLARE_METATYPE(keyhole::client::RequestRecord)
