#include "HarLog.h"

#include "BodyView.h"
#include "http/HeaderRules.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QUrlQuery>

namespace keyhole::client {

namespace {

QJsonArray headersJson(const HeaderList &headers)
{
    QJsonArray out;
    for (const Header &header : headers)
        out.append(QJsonObject{{QStringLiteral("name"), QString::fromLatin1(header.first)},
                               {QStringLiteral("value"), QString::fromUtf8(header.second)}});
    return out;
}

// The size of a head as it would go on the wire: "Name: value\r\n" per header and the blank line.
qint64 headersSize(const HeaderList &headers, qint64 startLine)
{
    qint64 size = startLine + 2;
    for (const Header &header : headers)
        size += header.first.size() + 2 + header.second.size() + 2;
    return size + 2;
}

QJsonArray queryJson(const QByteArray &query)
{
    QJsonArray out;
    if (query.isEmpty())
        return out;
    for (const auto &[name, value] : BodyView::formFields(query)) {
        out.append(QJsonObject{{QStringLiteral("name"), QString::fromUtf8(name)},
                               {QStringLiteral("value"), QString::fromUtf8(value)}});
    }
    return out;
}

// text (and encoding) for a body: clean text as it is, anything else base64.
// JSON strings are Unicode, so only exact UTF-8 goes in as text.
void putBody(QJsonObject &object, const QByteArray &body, bool truncated, qint64 fullSize)
{
    const QString text = BodyView::cleanText(body);
    if (!text.isNull() && text.toUtf8() == body) {
        object.insert(QStringLiteral("text"), text);
    } else {
        object.insert(QStringLiteral("text"), QString::fromLatin1(body.toBase64()));
        object.insert(QStringLiteral("encoding"), QStringLiteral("base64"));
    }
    if (truncated || fullSize > body.size())
        object.insert(QStringLiteral("comment"),
                      QStringLiteral("only the first %1 of %2 bytes were kept").arg(body.size()).arg(fullSize));
}

QString statusText(int status)
{
    switch (status / 100) {
    case 1:
        return QStringLiteral("Informational");
    case 2:
        return status == 200 ? QStringLiteral("OK") : QStringLiteral("Success");
    case 3:
        return QStringLiteral("Redirection");
    case 4:
        return status == 404 ? QStringLiteral("Not Found") : QStringLiteral("Client Error");
    case 5:
        return QStringLiteral("Server Error");
    default:
        return QString();
    }
}

} // namespace

QJsonObject HarLog::entry(const RequestRecord &r, const QString &scheme)
{
    QByteArray host = http::headerValue(r.requestHeaders, "Host");
    if (host.isEmpty())
        host = QByteArrayLiteral("localhost");
    // The proxy says which scheme the visitor used; `scheme` is for records without it.
    const QByteArray forwardedProto = http::headerValue(r.requestHeaders, "X-Forwarded-Proto").trimmed().toLower();
    const QString visitorScheme = forwardedProto == "http" || forwardedProto == "https"
        ? QString::fromLatin1(forwardedProto)
        : scheme;
    QString url = visitorScheme + QStringLiteral("://") + QString::fromLatin1(host)
        + QString::fromUtf8(r.path.isEmpty() ? QByteArrayLiteral("/") : r.path);
    if (!r.query.isEmpty())
        url += QLatin1Char('?') + QString::fromUtf8(r.query);

    QJsonObject request{
        {QStringLiteral("method"), QString::fromLatin1(r.method)},
        {QStringLiteral("url"), url},
        {QStringLiteral("httpVersion"), QStringLiteral("HTTP/1.1")},
        {QStringLiteral("cookies"), QJsonArray()},
        {QStringLiteral("headers"), headersJson(r.requestHeaders)},
        {QStringLiteral("queryString"), queryJson(r.query)},
        {QStringLiteral("headersSize"),
         double(headersSize(r.requestHeaders,
                            r.method.size() + 1 + r.path.size() + 10 + (r.query.isEmpty() ? 0 : r.query.size() + 1)))},
        {QStringLiteral("bodySize"), double(r.bytesIn)},
    };
    if (r.bytesIn > 0 || !r.requestBodyPreview.isEmpty()) {
        const QByteArray type = http::headerValue(r.requestHeaders, "Content-Type");
        QJsonObject postData{{QStringLiteral("mimeType"), QString::fromLatin1(type)}};
        putBody(postData, r.requestBodyPreview, r.requestBodyTruncated, r.bytesIn);
        request.insert(QStringLiteral("postData"), postData);
    }

    const QByteArray responseType = http::headerValue(r.responseHeaders, "Content-Type");
    QJsonObject content{{QStringLiteral("size"), double(r.bytesOut)},
                        {QStringLiteral("mimeType"), QString::fromLatin1(responseType)}};
    if (!r.responseBodyPreview.isEmpty())
        putBody(content, r.responseBodyPreview, r.responseBodyTruncated, r.bytesOut);
    QJsonObject response{
        {QStringLiteral("status"), r.status},
        {QStringLiteral("statusText"), statusText(r.status)},
        {QStringLiteral("httpVersion"), QStringLiteral("HTTP/1.1")},
        {QStringLiteral("cookies"), QJsonArray()},
        {QStringLiteral("headers"), headersJson(r.responseHeaders)},
        {QStringLiteral("content"), content},
        {QStringLiteral("redirectURL"), QString::fromUtf8(http::headerValue(r.responseHeaders, "Location"))},
        {QStringLiteral("headersSize"), double(headersSize(r.responseHeaders, 15))},
        {QStringLiteral("bodySize"), double(r.bytesOut)},
    };
    if (!r.error.isEmpty())
        response.insert(QStringLiteral("comment"), QStringLiteral("answered by keyhole: %1").arg(r.error));

    // The log measures the whole exchange; HAR wants it split, so it all goes to "wait".
    QJsonObject entry{
        {QStringLiteral("startedDateTime"), r.startedAt.toUTC().toString(Qt::ISODateWithMs)},
        {QStringLiteral("time"), double(r.durationMs)},
        {QStringLiteral("request"), request},
        {QStringLiteral("response"), response},
        {QStringLiteral("cache"), QJsonObject()},
        {QStringLiteral("timings"),
         QJsonObject{{QStringLiteral("send"), 0},
                     {QStringLiteral("wait"), double(r.durationMs)},
                     {QStringLiteral("receive"), 0}}},
    };
    if (!r.remoteAddress.isEmpty())
        entry.insert(QStringLiteral("comment"), QStringLiteral("from %1").arg(r.remoteAddress));
    return entry;
}

QJsonObject HarLog::log(const QList<RequestRecord> &records, const QString &scheme)
{
    QJsonArray entries;
    for (const RequestRecord &record : records) {
        if (record.kind == RequestRecord::Kind::Http)
            entries.append(entry(record, scheme));
    }
    return QJsonObject{{QStringLiteral("log"),
                        QJsonObject{{QStringLiteral("version"), QStringLiteral("1.2")},
                                    {QStringLiteral("creator"),
                                     QJsonObject{{QStringLiteral("name"), QStringLiteral("keyhole")},
                                                 {QStringLiteral("version"), QStringLiteral(KEYHOLE_VERSION)}}},
                                    {QStringLiteral("entries"), entries}}}};
}

QByteArray HarLog::document(const QList<RequestRecord> &records, const QString &scheme)
{
    return QJsonDocument(log(records, scheme)).toJson(QJsonDocument::Indented);
}

} // namespace keyhole::client
