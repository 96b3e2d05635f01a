#pragma once

#include "protocol/HeaderList.h"
#include "protocol/MessageType.h"

#include <QByteArray>
#include <QString>
#include <QtGlobal>

#include <variant>

namespace keyhole::protocol {

// Version 2 streams bodies (HttpBody, HttpCredit, HttpCancel). Every frame carries its version; the
// registration messages and Goodbye keep their layout in every version, so that a peer of another
// version is refused with a sentence it can read (see Codec::decode) instead of a decode error.
constexpr int kProtocolVersion = 2;
constexpr int kOldestReadableVersion = 1;

// Flow control of a streamed body: the sender may have this many bytes of one exchange's body in
// flight (sent, not yet granted back by HttpCredit) before it must wait.
constexpr qint64 kStreamWindowBytes = 256 * 1024;
// A body up to this size that is complete when the head is sent rides inside the head message, so a
// small exchange still costs one message each way. One window: an inline body is never more than a
// streamed one could have in flight. Streamed bodies travel in HttpBody messages of at most
// kBodyChunkBytes of data each.
constexpr qint64 kInlineBodyBytes = kStreamWindowBytes;
constexpr qint64 kBodyChunkBytes = 64 * 1024;

// Client -> proxy, first message on the control channel. `token` is a compact JWS (see
// crypto/RegistrationToken.h) that proves possession of the key and names the proxy it is for.
struct RegistrationRequest {
    QByteArray token;
};

// Proxy -> client. On success: the hostname and public URL of the tunnel and the limits the proxy
// enforces (0: no limit), so the client can refuse oversize responses itself. On refusal: a reason for humans,
// a machine code (see Goodbye::Code* for the shared vocabulary) and whether trying again later
// (with backoff) can succeed; without `retry` the refusal is final for this key.
struct RegistrationResponse {
    bool accepted = false;
    QString hostname;
    QString publicUrl;
    QString label;
    qint64 maxRequestBodyBytes = 0;
    qint64 maxResponseBodyBytes = 0;
    qint64 requestTimeoutMs = 0;
    QString reason;
    QByteArray code;
    bool retry = false;
};

// Proxy -> client: one visitor request. `path` is the raw path (percent-encoding untouched),
// `query` the raw query without '?'. Ids are unique across proxy instances. With `streamed`, the
// body continues in HttpBody messages after `body` (its first bytes, may be empty) until one marked
// `end`; without, `body` is the whole body.
struct HttpRequest {
    QByteArray id;
    QByteArray method;
    QByteArray path;
    QByteArray query;
    HeaderList headers;
    QByteArray body;
    QString remoteAddress;
    bool streamed = false;
};

// Client -> proxy: the answer to the HttpRequest with the same id; `streamed` as in HttpRequest.
struct HttpResponse {
    QByteArray id;
    int status = 0;
    HeaderList headers;
    QByteArray body;
    bool streamed = false;
};

// Either way: the next bytes of the streamed body of exchange `id`; `end` marks the last message
// (its `data` may be empty). Each sender keeps at most kStreamWindowBytes of data unacknowledged.
struct HttpBody {
    QByteArray id;
    QByteArray data;
    bool end = false;
};

// Either way: the receiver of a streamed body has passed `bytes` more of it on (to the visitor or
// the local service), so the sender may send that many more.
struct HttpCredit {
    QByteArray id;
    qint64 bytes = 0;
};

// Either way: exchange `id` is abandoned (visitor gone, local service gone, limit crossed, idle);
// the receiver stops at once and frees what it holds for it. No answer is expected.
struct HttpCancel {
    QByteArray id;
    QString reason;
};

// Proxy -> client: a visitor asks to open a WebSocket. Headers are the ones the local service
// needs (Origin, Cookie, Sec-WebSocket-Protocol, Authorization...), not the handshake-only ones.
struct WsRequest {
    QByteArray id;
    QByteArray path;
    QByteArray query;
    HeaderList headers;
    QString remoteAddress;
};

// Client -> proxy: accepted (with the subprotocol the service chose) or refused with the
// service's HTTP status, headers and body.
struct WsResponse {
    QByteArray id;
    bool accepted = false;
    QByteArray subprotocol;
    int status = 0;
    HeaderList headers;
    QByteArray body;
};

// Either way: one WebSocket message of the WebSocket `id`.
struct WsMessage {
    QByteArray id;
    bool binary = false;
    QByteArray payload;
};

// Either way: the WebSocket `id` closed, with the close code and reason to pass on.
struct WsTeardown {
    QByteArray id;
    int code = 1000;
    QString reason;
};

// Liveness probes; either side answers a Ping with a Pong carrying the same nonce.
struct Ping {
    quint64 nonce = 0;
};

struct Pong {
    quint64 nonce = 0;
};

// Either way, just before a deliberate close: why. A client told `replaced` must not reconnect
// by itself; `shutdown` means the proxy is going away and the client should come back later.
struct Goodbye {
    QByteArray code;
    QString reason;

    static constexpr const char *CodeReplaced = "replaced";
    static constexpr const char *CodeShutdown = "shutdown";
    static constexpr const char *CodeProtocolError = "protocol-error";
    static constexpr const char *CodeUnauthorized = "unauthorized";
    static constexpr const char *CodeBadToken = "bad-token";
    static constexpr const char *CodeClockSkew = "clock-skew";
    static constexpr const char *CodeBusy = "busy";
    static constexpr const char *CodeRegistrationTimeout = "registration-timeout";
    static constexpr const char *CodeIdle = "idle";
    static constexpr const char *CodeClientExit = "client-exit";
    static constexpr const char *CodeVersion = "version"; // the peer speaks another protocol version
};

// Alternatives in the order of MessageType ids.
using Message = std::variant<RegistrationRequest, RegistrationResponse, HttpRequest, HttpResponse, WsRequest,
                             WsResponse, WsMessage, WsTeardown, Ping, Pong, Goodbye, HttpBody, HttpCredit, HttpCancel>;

MessageType messageType(const Message &message);

} // namespace keyhole::protocol
