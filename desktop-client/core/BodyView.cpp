#include "BodyView.h"

#include <QJsonDocument>
#include <QUrl>

namespace keyhole::client {

namespace {

QByteArray mediaType(const QByteArray &contentType)
{
    const qsizetype semicolon = contentType.indexOf(';');
    return (semicolon < 0 ? contentType : contentType.left(semicolon)).trimmed().toLower();
}

bool declaresLatin1(const QByteArray &contentType)
{
    const QByteArray lower = contentType.toLower();
    return lower.contains("charset=iso-8859-1") || lower.contains("charset=latin1")
        || lower.contains("charset=\"iso-8859-1\"") || lower.contains("charset=windows-1252");
}

bool isJsonType(const QByteArray &type)
{
    return type == "application/json" || type.endsWith("+json") || type == "text/json";
}

bool hasOnlyCleanCharacters(const QString &text)
{
    for (const QChar c : text) {
        if (c == QLatin1Char('\t') || c == QLatin1Char('\n') || c == QLatin1Char('\r'))
            continue;
        switch (c.category()) {
        case QChar::Other_Control:
        case QChar::Other_Surrogate:
        case QChar::Other_NotAssigned:
            return false;
        default:
            break;
        }
        if (c == QChar::ReplacementCharacter)
            return false;
    }
    return true;
}

// How many bytes at the end of `bytes` start a UTF-8 sequence that the end cuts short (0 to 3).
qsizetype unfinishedTail(const QByteArray &bytes)
{
    for (qsizetype back = 1; back <= 3 && back <= bytes.size(); ++back) {
        const auto byte = static_cast<unsigned char>(bytes.at(bytes.size() - back));
        if ((byte & 0xc0) == 0x80)
            continue; // a continuation byte: look further back for the lead
        const int length = byte >= 0xf0 && byte < 0xf5 ? 4
            : byte >= 0xe0 && byte < 0xf0              ? 3
            : byte >= 0xc2 && byte < 0xe0              ? 2
                                                       : 1;
        return length > back ? back : 0;
    }
    return 0;
}

} // namespace

QString BodyView::cleanText(const QByteArray &bytes, const QByteArray &contentType)
{
    if (bytes.isEmpty())
        return QStringLiteral("");
    if (declaresLatin1(contentType)) {
        const QString text = QString::fromLatin1(bytes);
        return hasOnlyCleanCharacters(text) ? text : QString();
    }
    // A preview may end inside a character: the bytes of an unfinished sequence at the very end are
    // left out, nothing else.
    const qsizetype cut = unfinishedTail(bytes);
    const QByteArray head = bytes.left(bytes.size() - cut);
    const QString text = QString::fromUtf8(head);
    if (text.toUtf8() != head)
        return QString();
    return hasOnlyCleanCharacters(text) ? text : QString();
}

QString BodyView::prettyJson(const QByteArray &body)
{
    QJsonParseError error;
    const QJsonDocument document = QJsonDocument::fromJson(body, &error);
    if (error.error != QJsonParseError::NoError || document.isNull())
        return QString();
    return QString::fromUtf8(document.toJson(QJsonDocument::Indented)).trimmed();
}

QList<QPair<QByteArray, QByteArray>> BodyView::formFields(const QByteArray &text)
{
    QList<QPair<QByteArray, QByteArray>> fields;
    for (const QByteArray &field : text.split('&')) {
        if (field.isEmpty())
            continue;
        const qsizetype equals = field.indexOf('=');
        QByteArray name = equals < 0 ? field : field.left(equals);
        QByteArray value = equals < 0 ? QByteArray() : field.mid(equals + 1);
        fields.append({QByteArray::fromPercentEncoding(name.replace('+', ' ')),
                       QByteArray::fromPercentEncoding(value.replace('+', ' '))});
    }
    return fields;
}

QString BodyView::prettyForm(const QByteArray &body)
{
    QString out;
    for (const auto &[name, value] : formFields(body.trimmed())) {
        const QString nameText = cleanText(name);
        const QString valueText = cleanText(value);
        if (nameText.isNull() || valueText.isNull() || nameText.contains(QLatin1Char('\n'))
            || valueText.contains(QLatin1Char('\n')))
            return QString();
        out += nameText + QStringLiteral(" = ") + valueText + QLatin1Char('\n');
    }
    if (out.isEmpty())
        return QString();
    out.chop(1); // the last line end
    return out;
}

QString BodyView::hexDump(const QByteArray &bytes)
{
    QString out;
    out.reserve(bytes.size() * 4 + bytes.size() / 16 * 12);
    for (qsizetype line = 0; line < bytes.size(); line += 16) {
        out += QStringLiteral("%1  ").arg(line, 8, 16, QLatin1Char('0'));
        QString ascii;
        for (qsizetype i = line; i < line + 16; ++i) {
            if (i < bytes.size()) {
                const auto byte = static_cast<unsigned char>(bytes.at(i));
                out += QStringLiteral("%1 ").arg(byte, 2, 16, QLatin1Char('0'));
                ascii += (byte >= 0x20 && byte < 0x7f) ? QLatin1Char(char(byte)) : QLatin1Char('.');
            } else {
                out += QStringLiteral("   ");
            }
            if (i == line + 7)
                out += QLatin1Char(' ');
        }
        out += QLatin1Char('|') + ascii + QStringLiteral("|\n");
    }
    return out;
}

BodyView::Kind BodyView::classify(const QByteArray &body, const QByteArray &contentType)
{
    if (body.isEmpty())
        return Kind::Empty;
    const QString text = cleanText(body, contentType);
    if (text.isNull())
        return Kind::Binary;
    const QByteArray type = mediaType(contentType);
    const QByteArray trimmed = body.trimmed();
    const bool looksJson = trimmed.startsWith('{') || trimmed.startsWith('[');
    if ((isJsonType(type) || (type.isEmpty() && looksJson)) && !prettyJson(body).isNull())
        return Kind::Json;
    if (type == "application/x-www-form-urlencoded" && !prettyForm(body).isNull())
        return Kind::Form;
    return Kind::Text;
}

QString BodyView::render(const QByteArray &body, const QByteArray &contentType)
{
    switch (classify(body, contentType)) {
    case Kind::Empty:
        return QString();
    case Kind::Json:
        return prettyJson(body);
    case Kind::Form:
        return prettyForm(body);
    case Kind::Text:
        return cleanText(body, contentType);
    case Kind::Binary:
        return hexDump(body);
    }
    return QString();
}

QString BodyView::kindName(Kind kind)
{
    switch (kind) {
    case Kind::Empty:
        return QStringLiteral("empty");
    case Kind::Json:
        return QStringLiteral("JSON");
    case Kind::Form:
        return QStringLiteral("form");
    case Kind::Text:
        return QStringLiteral("text");
    case Kind::Binary:
        return QStringLiteral("binary");
    }
    return QString();
}

} // namespace keyhole::client
