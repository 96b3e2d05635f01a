#pragma once

#include <QByteArrayView>

namespace keyhole::http {

// RFC 9110 5.6.2 token characters, which is all a header name may contain. llhttp's lenient build
// lets a space through ("Transfer-Encoding : chunked"), which could smuggle a header past us.
inline bool isTokenChar(char c)
{
    if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
        return true;
    switch (c) {
    case '!':
    case '#':
    case '$':
    case '%':
    case '&':
    case '\'':
    case '*':
    case '+':
    case '-':
    case '.':
    case '^':
    case '_':
    case '`':
    case '|':
    case '~':
        return true;
    default:
        return false;
    }
}

inline bool isToken(QByteArrayView s)
{
    if (s.isEmpty())
        return false;
    for (char c : s) {
        if (!isTokenChar(c))
            return false;
    }
    return true;
}

// A request target with no whitespace or control characters: anything else could split the request line.
inline bool isSafeTarget(QByteArrayView s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u == 0x7f)
            return false;
    }
    return true;
}

// RFC 9112 3.2 as a server reads it: visible ASCII only. Raw TAB, control bytes and bytes >= 0x80
// are refused rather than passed on; a lenient server behind us could split or re-decode them.
inline bool isStrictTarget(QByteArrayView s)
{
    for (char c : s) {
        const auto u = static_cast<unsigned char>(c);
        if (u <= 0x20 || u >= 0x7f)
            return false;
    }
    return !s.isEmpty();
}

// A Host value (RFC 9110 7.2: uri-host [ ":" port ]) as we accept it: a reg-name, IPv4 or IP-literal
// and a port. No list (a comma: which one would the service pick?), no userinfo ("@"), nothing
// that could end the authority early ("/", "?", "#", "\", whitespace).
inline bool isStrictHostValue(QByteArrayView s)
{
    for (char c : s) {
        if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9'))
            continue;
        switch (c) {
        case '-':
        case '.':
        case '_':
        case '~':
        case '%':
        case ':':
        case '[':
        case ']':
        case '!':
        case '$':
        case '&':
        case '\'':
        case '(':
        case ')':
        case '*':
        case '+':
        case ';':
        case '=':
            continue;
        default:
            return false;
        }
    }
    return true;
}

// A header value that cannot end the header line early.
inline bool isSafeHeaderValue(QByteArrayView s)
{
    for (char c : s) {
        if (c == '\r' || c == '\n' || c == '\0')
            return false;
    }
    return true;
}

} // namespace keyhole::http
