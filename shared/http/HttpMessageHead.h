#pragma once

#include "protocol/HeaderList.h"

#include <QByteArray>

namespace keyhole::http {

using protocol::HeaderList;

// A parsed request line + headers.
struct RequestHead {
    QByteArray method;
    QByteArray target; // as sent: "/a%20b?x=1" (or absolute-form)
    QByteArray path;   // target up to '?', raw
    QByteArray query;  // after '?', raw, without '?'
    int versionMajor = 1;
    int versionMinor = 1;
    HeaderList headers;
    bool keepAlive = true;       // llhttp's verdict from version + Connection
    bool upgrade = false;        // Connection: upgrade + Upgrade header present
    bool expectContinue = false; // Expect: 100-continue
    bool chunked = false;
    qint64 contentLength = -1; // -1 when absent
};

// A parsed status line + headers.
struct ResponseHead {
    int status = 0;
    QByteArray reason;
    int versionMajor = 1;
    int versionMinor = 1;
    HeaderList headers;
    bool keepAlive = true;
    bool chunked = false;
    qint64 contentLength = -1;
};

} // namespace keyhole::http
