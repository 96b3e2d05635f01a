#include "http/HeaderRules.h"

#include <algorithm>
#include <array>

namespace keyhole::http {

namespace {

inline char asciiLower(char c)
{
    return (c >= 'A' && c <= 'Z') ? char(c + ('a' - 'A')) : c;
}

inline bool isOws(char c)
{
    return c == ' ' || c == '\t';
}

QByteArrayView trimmed(QByteArrayView v)
{
    qsizetype begin = 0;
    qsizetype end = v.size();
    while (begin < end && isOws(v.at(begin)))
        ++begin;
    while (end > begin && isOws(v.at(end - 1)))
        --end;
    return v.sliced(begin, end - begin);
}

// Calls `f` with each trimmed, non-empty element of a comma-separated list; stops when it returns true.
template <typename F> bool forEachToken(QByteArrayView list, F f)
{
    qsizetype start = 0;
    while (start <= list.size()) {
        qsizetype comma = list.indexOf(',', start);
        if (comma < 0)
            comma = list.size();
        const QByteArrayView token = trimmed(list.sliced(start, comma - start));
        if (!token.isEmpty() && f(token))
            return true;
        start = comma + 1;
    }
    return false;
}

// HTTP2-Settings belongs to an h2c upgrade (RFC 7540 3.2.1), which we never perform.
constexpr std::array<QByteArrayView, 10> kHopByHop = {
    QByteArrayView("Connection"),
    QByteArrayView("Keep-Alive"),
    QByteArrayView("Proxy-Connection"),
    QByteArrayView("TE"),
    QByteArrayView("Trailer"),
    QByteArrayView("Transfer-Encoding"),
    QByteArrayView("Upgrade"),
    QByteArrayView("Proxy-Authenticate"),
    QByteArrayView("Proxy-Authorization"),
    QByteArrayView("HTTP2-Settings"),
};

// Headers in which frameworks look for the client's address (or the original scheme and host).
// Only a trusted proxy of ours may set them; from anyone else they are forged.
constexpr std::array<QByteArrayView, 4> kClientAddressHeaders = {
    QByteArrayView("Forwarded"),
    QByteArrayView("X-Real-IP"),
    QByteArrayView("X-Client-IP"),
    QByteArrayView("True-Client-IP"),
};

QByteArray foldUnderscores(QByteArrayView name)
{
    QByteArray folded = name.toByteArray();
    folded.replace('_', '-');
    return folded;
}

bool isClientAddressHeader(QByteArrayView name)
{
    const QByteArray folded = foldUnderscores(name);
    if (folded.size() > 12 && headerNameEquals(QByteArrayView(folded).first(12), "X-Forwarded-"))
        return true;
    return std::any_of(kClientAddressHeaders.cbegin(), kClientAddressHeaders.cend(),
                       [&folded](QByteArrayView h) { return headerNameEquals(h, folded); });
}

} // namespace

bool headerNameEquals(QByteArrayView a, QByteArrayView b)
{
    if (a.size() != b.size())
        return false;
    for (qsizetype i = 0; i < a.size(); ++i) {
        if (asciiLower(a.at(i)) != asciiLower(b.at(i)))
            return false;
    }
    return true;
}

QByteArray headerValue(const HeaderList &headers, QByteArrayView name)
{
    for (const auto &header : headers) {
        if (headerNameEquals(header.first, name))
            return header.second.isNull() ? QByteArray("") : header.second;
    }
    return QByteArray();
}

bool hasHeader(const HeaderList &headers, QByteArrayView name)
{
    return std::any_of(headers.cbegin(), headers.cend(),
                       [name](const auto &header) { return headerNameEquals(header.first, name); });
}

void removeHeader(HeaderList &headers, QByteArrayView name)
{
    headers.removeIf([name](const auto &header) { return headerNameEquals(header.first, name); });
}

bool headerHasToken(const HeaderList &headers, QByteArrayView name, QByteArrayView token)
{
    for (const auto &header : headers) {
        if (!headerNameEquals(header.first, name))
            continue;
        if (forEachToken(header.second, [token](QByteArrayView t) { return headerNameEquals(t, token); }))
            return true;
    }
    return false;
}

bool isHopByHop(QByteArrayView name)
{
    return std::any_of(kHopByHop.cbegin(), kHopByHop.cend(),
                       [name](QByteArrayView hop) { return headerNameEquals(hop, name); });
}

void removeHopByHop(HeaderList &headers)
{
    // Collect what Connection names first: those headers only concern this hop too.
    QList<QByteArray> named;
    for (const auto &header : headers) {
        if (!headerNameEquals(header.first, "Connection"))
            continue;
        forEachToken(header.second, [&named](QByteArrayView t) {
            named.append(t.toByteArray());
            return false;
        });
    }
    headers.removeIf([&named](const auto &header) {
        if (isHopByHop(header.first))
            return true;
        return std::any_of(named.cbegin(), named.cend(),
                           [&header](const QByteArray &n) { return headerNameEquals(header.first, n); });
    });
}

void applyForwardedHeaders(HeaderList &headers, const QString &visitorAddress, bool visitorIsTrusted,
                           const QByteArray &proto, const QByteArray &host)
{
    const QByteArray visitor = visitorAddress.toLatin1();
    // "X_Forwarded_For" is the same header to CGI, WSGI and PHP, and a proxy in front of us passes
    // it on untouched: never from anyone.
    headers.removeIf(
        [](const auto &header) { return header.first.contains('_') && isClientAddressHeader(header.first); });
    if (!visitorIsTrusted) {
        // Whatever an untrusted visitor claims about earlier hops is forged or irrelevant:
        // X-Forwarded-*, Forwarded, X-Real-IP and the like.
        headers.removeIf([](const auto &header) { return isClientAddressHeader(header.first); });
        headers.append({QByteArrayLiteral("X-Forwarded-For"), visitor});
        headers.append({QByteArrayLiteral("X-Forwarded-Proto"), proto});
        headers.append({QByteArrayLiteral("X-Forwarded-Host"), host});
        return;
    }

    // Several X-Forwarded-For lines are one list (RFC 9110 5.3): join them, then add the visitor.
    QByteArray chain;
    for (const auto &header : std::as_const(headers)) {
        if (!headerNameEquals(header.first, "X-Forwarded-For"))
            continue;
        const QByteArrayView value = trimmed(header.second);
        if (value.isEmpty())
            continue;
        if (!chain.isEmpty())
            chain += ", ";
        chain += value;
    }
    removeHeader(headers, "X-Forwarded-For");
    headers.append({QByteArrayLiteral("X-Forwarded-For"), chain.isEmpty() ? visitor : chain + ", " + visitor});
    if (!hasHeader(headers, "X-Forwarded-Proto"))
        headers.append({QByteArrayLiteral("X-Forwarded-Proto"), proto});
    if (!hasHeader(headers, "X-Forwarded-Host"))
        headers.append({QByteArrayLiteral("X-Forwarded-Host"), host});
}

} // namespace keyhole::http
