#pragma once

#include "RequestRecord.h"

#include <QString>

#include <optional>

namespace keyhole::client {

// "Replay with changes": a captured request with its method, target, headers and body edited as
// text, checked so that what goes to the local service is one valid HTTP request (no line breaks
// smuggled into the head). The edited request is whole: its body is what the editor holds, so a
// body the log kept only the start of may be replayed once the user has given all of it.
class RequestEdit
{
public:
    struct Fields {
        QString method;
        QString target;  // path?query, starting with '/'
        QString headers; // "Name: value" a line
        // The new body; nullopt keeps the captured one (a binary body the editor cannot show).
        std::optional<QByteArray> body;
    };

    static Fields fieldsOf(const RequestRecord &record);
    static QString headersText(const HeaderList &headers);
    // The record to replay, or nullopt with the reason in *error.
    static std::optional<RequestRecord> apply(const RequestRecord &original, const Fields &fields, QString *error);
    static std::optional<HeaderList> parseHeaders(const QString &text, QString *error);
};

} // namespace keyhole::client
