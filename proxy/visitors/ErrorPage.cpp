#include "visitors/ErrorPage.h"

#include "http/HttpWriter.h"

namespace keyhole::proxy {

ErrorPage ErrorPage::make(int status, const QString &message, const QByteArray &requestId)
{
    ErrorPage page;
    page.status = status;
    const QByteArray title = QByteArray::number(status) + ' ' + http::reasonPhrase(status);
    const QByteArray text = message.toHtmlEscaped().toUtf8();
    page.body = QByteArrayLiteral("<!doctype html>\n<html><head><meta charset=\"utf-8\"><title>") + title
        + QByteArrayLiteral("</title></head>\n<body><h1>") + title + QByteArrayLiteral("</h1>\n<p>") + text
        + QByteArrayLiteral("</p>\n<p><small>keyhole request id: ") + requestId
        + QByteArrayLiteral("</small></p></body></html>\n");
    page.headers = {
        {QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/html; charset=utf-8")},
        {QByteArrayLiteral("Cache-Control"), QByteArrayLiteral("no-store")},
    };
    return page;
}

} // namespace keyhole::proxy
