#pragma once

#include "http/HttpParser.h"
#include "protocol/HeaderList.h"

#include <QByteArray>
#include <QString>

namespace keyhole::http {

// RFC 9112 3.2 and RFC 9110 7.2, read as strictly as nginx: the request target and the Host header,
// checked once the head is complete. Where a server behind us could read the target or Host
// differently from us, the request is refused. An absolute-form target's authority wins over Host
// (RFC 9112 3.2.2): Host is made to say the same, so the service and we cannot disagree about the
// site. Pure: used by HttpParser, testable on its own.
class RequestTargetCheck
{
public:
    struct Verdict {
        HttpParser::Error error = HttpParser::Error::None;
        QString text;          // why, when error is set
        QByteArray originForm; // the target to route by: path and query, always starting with '/'
                               // (or "*" for OPTIONS, the authority for CONNECT)
    };

    // `headers` may gain or change its Host (absolute-form); it never grows past `maxHeaders`.
    static Verdict check(QByteArrayView method, const QByteArray &target, protocol::HeaderList *headers,
                         int maxHeaders);
};

} // namespace keyhole::http
