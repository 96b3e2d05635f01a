#include "http/RequestTargetCheck.h"

#include "http/HeaderRules.h"
#include "http/HttpSyntax.h"

#include <algorithm>

namespace keyhole::http {

namespace {

using Error = HttpParser::Error;

// "Transfer_Encoding" or "content_length": some servers and gateways (CGI, WSGI, PHP) fold "_" and
// "-" together, so such a header would frame the body there and not here.
bool isFramingLookAlike(QByteArrayView name)
{
    if (!name.contains('_'))
        return false;
    QByteArray folded = name.toByteArray();
    folded.replace('_', '-');
    return headerNameEquals(folded, "Transfer-Encoding") || headerNameEquals(folded, "Content-Length");
}

bool startsWithNoCase(QByteArrayView s, QByteArrayView prefix)
{
    return s.size() >= prefix.size() && headerNameEquals(s.first(prefix.size()), prefix);
}

RequestTargetCheck::Verdict refuse(Error error, const QString &text)
{
    return {error, text, {}};
}

} // namespace

RequestTargetCheck::Verdict RequestTargetCheck::check(QByteArrayView method, const QByteArray &target,
                                                      protocol::HeaderList *headers, int maxHeaders)
{
    int hosts = 0;
    for (const auto &header : *headers) {
        if (isFramingLookAlike(header.first))
            return refuse(
                Error::Malformed,
                QStringLiteral("header %1 looks like a framing header").arg(QString::fromLatin1(header.first)));
        if (!headerNameEquals(header.first, "Host"))
            continue;
        if (++hosts > 1)
            return refuse(Error::Malformed, QStringLiteral("more than one Host header"));
        if (!isStrictHostValue(header.second))
            return refuse(Error::Malformed, QStringLiteral("invalid Host header"));
    }
    if (!isStrictTarget(target))
        return refuse(Error::Malformed, QStringLiteral("invalid character in the request target"));
    if (target.contains('#'))
        return refuse(Error::Malformed, QStringLiteral("fragment in the request target"));
    if (target.startsWith('/'))
        return {Error::None, {}, target};
    if (method == "OPTIONS" && target == "*")
        return {Error::None, {}, target};
    if (method == "CONNECT")
        return {Error::None, {}, target}; // authority-form: the caller refuses CONNECT
    const QByteArrayView scheme = startsWithNoCase(target, "http://") ? QByteArrayView("http://")
        : startsWithNoCase(target, "https://")                        ? QByteArrayView("https://")
                                                                      : QByteArrayView();
    if (scheme.isEmpty())
        return refuse(Error::Malformed, QStringLiteral("request target is neither origin- nor absolute-form"));

    const QByteArray rest = target.mid(scheme.size());
    qsizetype authorityEnd = rest.size();
    for (char delim : {'/', '?'}) {
        const qsizetype at = rest.indexOf(delim);
        if (at >= 0)
            authorityEnd = std::min(authorityEnd, at);
    }
    const QByteArray authority = rest.left(authorityEnd);
    if (authority.isEmpty() || authority.contains('@') || !isStrictHostValue(authority))
        return refuse(Error::Malformed, QStringLiteral("invalid authority in the request target"));
    QByteArray originForm = rest.mid(authorityEnd);
    if (!originForm.startsWith('/'))
        originForm.prepend('/');
    bool replaced = false;
    for (auto &header : *headers) {
        if (headerNameEquals(header.first, "Host")) {
            header.second = authority;
            replaced = true;
        }
    }
    if (!replaced) {
        // The Host we add counts like one the visitor sent (found by fuzz_http_request).
        if (headers->size() >= maxHeaders)
            return refuse(Error::TooManyHeaders, QStringLiteral("more than %1 headers").arg(maxHeaders));
        headers->append({QByteArrayLiteral("Host"), authority});
    }
    return {Error::None, {}, originForm};
}

} // namespace keyhole::http
