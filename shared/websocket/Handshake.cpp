#include "websocket/Handshake.h"

#include "http/HeaderRules.h"

#include <QCryptographicHash>
#include <QRandomGenerator>

#include <algorithm>

namespace keyhole::websocket::handshake {

namespace {

const QByteArray kGuid = QByteArrayLiteral("258EAFA5-E914-47DA-95CA-C5AB0DC85B11");

QByteArray refusal(int status, const QByteArray &reasonPhrase, const QString &error, bool needVersion)
{
    const QByteArray body = error.toUtf8() + '\n';
    QByteArray out = "HTTP/1.1 " + QByteArray::number(status) + ' ' + reasonPhrase + "\r\n";
    if (needVersion) // RFC 6455 4.4 and RFC 9110 15.5.22: say what would work
        out += "Upgrade: websocket\r\nSec-WebSocket-Version: 13\r\n";
    out += "Content-Type: text/plain; charset=utf-8\r\nContent-Length: " + QByteArray::number(body.size())
        + "\r\nConnection: close\r\n\r\n" + body;
    return out;
}

// RFC 9110 5.6.2: a subprotocol name is a token; anything else (CR, LF, spaces) never reaches the head.
bool isToken(const QByteArray &text)
{
    static const QByteArray kSpecials = QByteArrayLiteral("!#$%&'*+-.^_`|~");
    return !text.isEmpty() && std::all_of(text.cbegin(), text.cend(), [](char c) {
        return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || kSpecials.contains(c);
    });
}

bool isValidKey(const QByteArray &key)
{
    const auto decoded = QByteArray::fromBase64Encoding(key, QByteArray::AbortOnBase64DecodingErrors);
    return decoded && decoded.decoded.size() == 16;
}

} // namespace

QByteArray generateKey()
{
    quint32 words[4];
    QRandomGenerator::system()->fillRange(words);
    return QByteArray(reinterpret_cast<const char *>(words), sizeof(words)).toBase64();
}

QByteArray acceptFor(const QByteArray &key)
{
    return QCryptographicHash::hash(key + kGuid, QCryptographicHash::Sha1).toBase64();
}

QByteArray clientRequest(const QUrl &url, const QByteArray &key, const QByteArray &userAgent)
{
    QByteArray target = url.path(QUrl::FullyEncoded).toLatin1();
    if (target.isEmpty())
        target = "/";
    if (url.hasQuery())
        target += '?' + url.query(QUrl::FullyEncoded).toLatin1();
    QByteArray host = url.host(QUrl::FullyEncoded).toLatin1();
    if (host.contains(':'))
        host = '[' + host + ']';
    const int defaultPort = url.scheme() == QLatin1String("wss") ? 443 : 80;
    if (url.port(defaultPort) != defaultPort)
        host += ':' + QByteArray::number(url.port());

    QByteArray out;
    out.reserve(256);
    out += "GET " + target + " HTTP/1.1\r\nHost: " + host
        + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Key: " + key
        + "\r\nSec-WebSocket-Version: 13\r\n";
    if (!userAgent.isEmpty())
        out += "User-Agent: " + userAgent + "\r\n";
    out += "\r\n";
    return out;
}

QString checkServerResponse(const http::ResponseHead &head, const QByteArray &key)
{
    if (head.status != 101)
        return QStringLiteral("%1 %2").arg(head.status).arg(QString::fromLatin1(head.reason)).trimmed();
    if (!http::headerHasToken(head.headers, "Upgrade", "websocket"))
        return QStringLiteral("101 without Upgrade: websocket");
    if (!http::headerHasToken(head.headers, "Connection", "upgrade"))
        return QStringLiteral("101 without Connection: upgrade");
    if (http::headerValue(head.headers, "Sec-WebSocket-Accept") != acceptFor(key))
        return QStringLiteral("wrong Sec-WebSocket-Accept");
    // We offered none: any extension or subprotocol would change the framing under us.
    if (http::hasHeader(head.headers, "Sec-WebSocket-Extensions"))
        return QStringLiteral("the server chose an extension that was not offered");
    if (http::hasHeader(head.headers, "Sec-WebSocket-Protocol"))
        return QStringLiteral("the server chose a subprotocol that was not offered");
    return {};
}

ServerAnswer answerClientRequest(const http::RequestHead &head, const QByteArray &subprotocol)
{
    ServerAnswer answer;
    auto refuse = [&answer](int status, const QByteArray &phrase, const QString &error) {
        answer.status = status;
        answer.error = error;
        answer.bytes = refusal(status, phrase, error, status == 426);
        return answer;
    };
    if (head.method != "GET" || head.versionMajor != 1 || head.versionMinor < 1)
        return refuse(400, "Bad Request", QStringLiteral("A WebSocket handshake is a GET over HTTP/1.1."));
    if (!http::headerHasToken(head.headers, "Upgrade", "websocket"))
        return refuse(426, "Upgrade Required",
                      QStringLiteral("This endpoint speaks WebSocket only (Upgrade: websocket)."));
    if (!http::headerHasToken(head.headers, "Connection", "upgrade"))
        return refuse(400, "Bad Request", QStringLiteral("A WebSocket handshake needs Connection: Upgrade."));
    if (http::headerValue(head.headers, "Sec-WebSocket-Version").trimmed() != "13")
        return refuse(426, "Upgrade Required", QStringLiteral("Only WebSocket version 13 is supported."));
    const QByteArray key = http::headerValue(head.headers, "Sec-WebSocket-Key").trimmed();
    if (!isValidKey(key))
        return refuse(400, "Bad Request", QStringLiteral("Sec-WebSocket-Key must be 16 bytes in base64."));

    answer.status = 101;
    answer.bytes = "HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                   "Sec-WebSocket-Accept: "
        + acceptFor(key) + "\r\n";
    if (isToken(subprotocol) && http::headerHasToken(head.headers, "Sec-WebSocket-Protocol", subprotocol))
        answer.bytes += "Sec-WebSocket-Protocol: " + subprotocol + "\r\n";
    answer.bytes += "\r\n";
    return answer;
}

} // namespace keyhole::websocket::handshake
