#pragma once

#include "RequestRecord.h"

#include <QString>
#include <QUrl>

namespace keyhole::client {

// "Copy as curl": a one-line shell command that sends a captured request to a base URL
// (scheme://host:port). It is pasted into a terminal, so it never holds control or invisible
// formatting characters, and every argument is single-quoted: a body that is not clean one-line
// UTF-8 text goes base64-encoded and is decoded into curl's standard input (the exact bytes), a
// header that cannot be written as it came is left out, and the target is percent-encoded.
class CurlCommand
{
public:
    static QString build(const RequestRecord &record, const QUrl &base);
    // `text` as one POSIX shell word: single quotes, each ' written as '\''.
    static QString shellQuoted(const QString &text);
};

} // namespace keyhole::client
