#pragma once

#include "protocol/HeaderList.h"

#include <QByteArray>
#include <QString>

namespace keyhole::proxy {

// The proxy's own answers (404, 413, 502, 504...): a short HTML page that says what happened and
// carries the request id the logs also show.
struct ErrorPage {
    int status = 500;
    protocol::HeaderList headers;
    QByteArray body;

    static ErrorPage make(int status, const QString &message, const QByteArray &requestId);
};

} // namespace keyhole::proxy
