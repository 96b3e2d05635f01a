#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>
#include <QString>

namespace keyhole::client {

// How the request log shows a captured body: JSON indented, a form as one field a line, text as it
// is, and anything that is not clean text as a hex dump (never bytes decoded as the wrong charset).
// Works on previews, so a JSON document cut short by the preview limit falls back to text.
class BodyView
{
public:
    enum class Kind { Empty, Json, Form, Text, Binary };

    static Kind classify(const QByteArray &body, const QByteArray &contentType);
    // The body as the inspector shows it, per classify().
    static QString render(const QByteArray &body, const QByteArray &contentType);
    // Indented JSON, or a null string when `body` is not a whole JSON document.
    static QString prettyJson(const QByteArray &body);
    // "name = value" a line, both percent-decoded; a null string when a field is not clean text.
    static QString prettyForm(const QByteArray &body);
    // application/x-www-form-urlencoded (a body or a query): each name=value, '+' as space and
    // percent-decoded; empty fields skipped.
    static QList<QPair<QByteArray, QByteArray>> formFields(const QByteArray &text);
    // 16 bytes a line: offset, hex, and the printable ASCII (others as '.').
    static QString hexDump(const QByteArray &bytes);
    // The text of `bytes` when they are UTF-8 (or the declared Latin-1) with no control characters
    // but tab and line ends; a null string otherwise. A multi-byte character cut at the end of a
    // preview does not make it binary.
    static QString cleanText(const QByteArray &bytes, const QByteArray &contentType = {});
    static QString kindName(Kind kind);
};

} // namespace keyhole::client
