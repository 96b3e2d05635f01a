#include "CurlCommand.h"
#include "http/HttpSyntax.h"

#include <QStringList>

#include <optional>

namespace keyhole::client {

namespace {

QString shellQuotedText(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

// Characters that must never reach a terminal raw from a pasted command: controls (C0, DEL, C1),
// and invisible formatting such as bidirectional overrides, which make a command read differently
// from what it runs.
bool isUnsafeForShell(QChar c)
{
    switch (c.category()) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph:
    case QChar::Other_Surrogate:
    case QChar::Other_NotAssigned:
        return true;
    default:
        return false;
    }
}

// The text of `bytes` when they are valid UTF-8 without unsafe characters; nullopt otherwise.
std::optional<QString> safeText(const QByteArray &bytes)
{
    const QString text = QString::fromUtf8(bytes);
    if (text.toUtf8() != bytes)
        return std::nullopt; // invalid UTF-8: the replacement characters would change the bytes
    for (const QChar c : text) {
        if (isUnsafeForShell(c))
            return std::nullopt;
    }
    return text;
}

// A request target as it goes into a URL: every byte outside printable ASCII percent-encoded.
QString urlPart(const QByteArray &raw)
{
    QString out;
    out.reserve(raw.size());
    for (const char ch : raw) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte <= 0x20 || byte >= 0x7f)
            out += QStringLiteral("%%1").arg(byte, 2, 16, QLatin1Char('0')).toUpper();
        else
            out += QLatin1Char(ch);
    }
    return out;
}

} // namespace

QString CurlCommand::shellQuoted(const QString &text)
{
    return shellQuotedText(text);
}

QString CurlCommand::build(const RequestRecord &record, const QUrl &base)
{
    // One line of printable text, whatever the visitor sent: it is pasted into a terminal.
    const auto options = QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::StripTrailingSlash;
    QString url = base.toString(options | QUrl::FullyEncoded);
    url += urlPart(record.path.isEmpty() ? QByteArrayLiteral("/") : record.path);
    if (!record.query.isEmpty())
        url += QLatin1Char('?') + urlPart(record.query);

    QStringList parts{QStringLiteral("curl")};
    if (record.method != "GET")
        parts << QStringLiteral("-X")
              << shellQuoted(http::isToken(record.method) ? QString::fromLatin1(record.method)
                                                          : urlPart(record.method));
    parts << shellQuoted(url);
    for (const Header &header : record.requestHeaders) {
        // curl computes these itself.
        if (header.first.compare("Content-Length", Qt::CaseInsensitive) == 0)
            continue;
        // A header that cannot be written as it came is left out rather than changed: it was not a
        // valid header for the local service either.
        const std::optional<QString> value = safeText(header.second);
        if (!http::isToken(header.first) || !value)
            continue;
        parts << QStringLiteral("-H") << shellQuoted(QString::fromLatin1(header.first) + QStringLiteral(": ") + *value);
    }
    const QByteArray &body = record.requestBodyPreview;
    if (body.isEmpty())
        return parts.join(QLatin1Char(' '));
    if (const std::optional<QString> text = safeText(body)) {
        parts << QStringLiteral("--data-binary") << shellQuoted(*text);
        return parts.join(QLatin1Char(' '));
    }
    // Binary, multi-line or control characters: the exact bytes travel base64-encoded and curl
    // reads them from its standard input.
    parts << QStringLiteral("--data-binary") << QStringLiteral("@-");
    return QStringLiteral("printf '%s' ") + shellQuoted(QString::fromLatin1(body.toBase64()))
        + QStringLiteral(" | base64 --decode | ") + parts.join(QLatin1Char(' '));
}

} // namespace keyhole::client
