#pragma once

#include "RequestRecord.h"

#include <QJsonObject>
#include <QList>

namespace keyhole::client {

// The request log as HAR 1.2 (the HTTP Archive format that browsers' developer tools, proxies and
// HAR viewers read). A body that is not clean text goes base64-encoded (content "encoding", and the
// same for postData, which HAR 1.2 leaves unspecified); a body the log kept only the start of says
// so in its "comment", and sizes are always the full ones.
class HarLog
{
public:
    // `scheme` is the one visitors used (the request URL is scheme://Host header/path?query).
    static QJsonObject entry(const RequestRecord &record, const QString &scheme = QStringLiteral("https"));
    static QJsonObject log(const QList<RequestRecord> &records, const QString &scheme = QStringLiteral("https"));
    // The document, indented, in UTF-8.
    static QByteArray document(const QList<RequestRecord> &records, const QString &scheme = QStringLiteral("https"));
};

} // namespace keyhole::client
