#include "RequestEdit.h"

#include "BodyView.h"
#include "http/HttpSyntax.h"

namespace keyhole::client {

namespace {

// A header value may hold anything but line ends and NUL (RFC 9110 field-value, obs-text allowed).
bool isFieldValue(const QByteArray &value)
{
    for (const char ch : value) {
        const auto byte = static_cast<unsigned char>(ch);
        if ((byte < 0x20 && byte != '\t') || byte == 0x7f)
            return false;
    }
    return true;
}

} // namespace

QString RequestEdit::headersText(const HeaderList &headers)
{
    QString text;
    for (const Header &header : headers)
        text += QString::fromLatin1(header.first) + QStringLiteral(": ") + QString::fromUtf8(header.second)
            + QLatin1Char('\n');
    return text;
}

RequestEdit::Fields RequestEdit::fieldsOf(const RequestRecord &record)
{
    Fields fields;
    fields.method = QString::fromLatin1(record.method);
    fields.target = QString::fromUtf8(record.path.isEmpty() ? QByteArrayLiteral("/") : record.path);
    if (!record.query.isEmpty())
        fields.target += QLatin1Char('?') + QString::fromUtf8(record.query);
    fields.headers = headersText(record.requestHeaders);
    const QString text = BodyView::cleanText(record.requestBodyPreview);
    if (!text.isNull() && text.toUtf8() == record.requestBodyPreview)
        fields.body = record.requestBodyPreview;
    return fields;
}

std::optional<HeaderList> RequestEdit::parseHeaders(const QString &text, QString *error)
{
    HeaderList headers;
    const QStringList lines = text.split(QLatin1Char('\n'));
    for (int i = 0; i < lines.size(); ++i) {
        QString line = lines.at(i);
        if (line.endsWith(QLatin1Char('\r')))
            line.chop(1);
        if (line.trimmed().isEmpty())
            continue;
        const qsizetype colon = line.indexOf(QLatin1Char(':'));
        const QByteArray name = (colon < 0 ? line : line.left(colon)).trimmed().toUtf8();
        const QByteArray value = colon < 0 ? QByteArray() : line.mid(colon + 1).trimmed().toUtf8();
        if (colon < 0 || !http::isToken(name)) {
            *error = QStringLiteral("line %1: not \"Name: value\"").arg(i + 1);
            return std::nullopt;
        }
        if (!isFieldValue(value)) {
            *error = QStringLiteral("line %1: control characters in the value of %2")
                         .arg(i + 1)
                         .arg(QString::fromLatin1(name));
            return std::nullopt;
        }
        headers.append({name, value});
    }
    return headers;
}

std::optional<RequestRecord> RequestEdit::apply(const RequestRecord &original, const Fields &fields, QString *error)
{
    const QByteArray method = fields.method.trimmed().toUtf8();
    if (!http::isToken(method)) {
        *error = QStringLiteral("the method must be one word, such as GET or POST");
        return std::nullopt;
    }
    const QByteArray target = fields.target.trimmed().toUtf8();
    if (!target.startsWith('/')) {
        *error = QStringLiteral("the path must start with /");
        return std::nullopt;
    }
    for (const char ch : target) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte <= 0x20 || byte == 0x7f) {
            *error = QStringLiteral("the path may hold no spaces or control characters (percent-encode them)");
            return std::nullopt;
        }
    }
    std::optional<HeaderList> headers = parseHeaders(fields.headers, error);
    if (!headers)
        return std::nullopt;

    RequestRecord edited = original;
    edited.method = method;
    const qsizetype question = target.indexOf('?');
    edited.path = question < 0 ? target : target.left(question);
    edited.query = question < 0 ? QByteArray() : target.mid(question + 1);
    edited.requestHeaders = *headers;
    if (fields.body) {
        edited.requestBodyPreview = *fields.body;
        edited.bytesIn = fields.body->size();
        edited.requestBodyTruncated = false;
    }
    return edited;
}

} // namespace keyhole::client
