#pragma once

// The one schema of every message: which keys, of which CBOR type, required or not, with which
// bound. FrameEncoder and FrameDecoder both walk it, so a field is stated once. Internal to the codec.

#include "protocol/Codec.h"

#include <limits>
#include <type_traits>

namespace keyhole::protocol::schema {

// docs/PROTOCOL.md documents the same table.

constexpr qsizetype kMaxKeyBytes = 64;
// Deepest legal frame: map > headers array > [name, value] pair. Unknown values may nest up to
// this depth as well; anything deeper is refused instead of recursing on attacker input.
constexpr int kMaxDepth = 8;

enum class Need {
    Optional, // may be absent; the encoder omits it when it holds the default
    Required, // must be present
    NonEmpty, // must be present and not empty (ids)
};

enum class Bound {
    String, // DecodeLimits::maxStringBytes
    Body,   // DecodeLimits::maxBodyBytes (bodies, payloads, tokens)
};

#define KEYHOLE_FIELDS(Type)                                                                                           \
    template <typename V, typename M> std::enable_if_t<std::is_same_v<std::remove_const_t<M>, Type>> fields(V &v, M &m)

KEYHOLE_FIELDS(RegistrationRequest)
{
    v.bytes("token", m.token, Need::NonEmpty, Bound::Body);
}

KEYHOLE_FIELDS(RegistrationResponse)
{
    v.boolean("accepted", m.accepted, Need::Required);
    v.text("hostname", m.hostname);
    v.text("url", m.publicUrl);
    v.text("label", m.label);
    v.integer("maxRequestBody", m.maxRequestBodyBytes, Need::Optional, 0, std::numeric_limits<qint64>::max(),
              qint64(0));
    v.integer("maxResponseBody", m.maxResponseBodyBytes, Need::Optional, 0, std::numeric_limits<qint64>::max(),
              qint64(0));
    v.integer("timeoutMs", m.requestTimeoutMs, Need::Optional, 0, std::numeric_limits<qint64>::max(), qint64(0));
    v.text("reason", m.reason);
    v.bytes("code", m.code, Need::Optional, Bound::String);
    v.boolean("retry", m.retry, Need::Optional);
}

KEYHOLE_FIELDS(HttpRequest)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.bytes("method", m.method, Need::NonEmpty, Bound::String);
    v.bytes("path", m.path, Need::Required, Bound::String);
    v.bytes("query", m.query, Need::Optional, Bound::String);
    v.headers("headers", m.headers);
    v.bytes("body", m.body, Need::Optional, Bound::Body);
    v.text("remote", m.remoteAddress);
    v.boolean("streamed", m.streamed, Need::Optional);
}

KEYHOLE_FIELDS(HttpResponse)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.integer("status", m.status, Need::Required, 100, 999, 0);
    v.headers("headers", m.headers);
    v.bytes("body", m.body, Need::Optional, Bound::Body);
    v.boolean("streamed", m.streamed, Need::Optional);
}

KEYHOLE_FIELDS(WsRequest)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.bytes("path", m.path, Need::Required, Bound::String);
    v.bytes("query", m.query, Need::Optional, Bound::String);
    v.headers("headers", m.headers);
    v.text("remote", m.remoteAddress);
}

KEYHOLE_FIELDS(WsResponse)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.boolean("accepted", m.accepted, Need::Required);
    v.bytes("subprotocol", m.subprotocol, Need::Optional, Bound::String);
    v.integer("status", m.status, Need::Optional, 100, 999, 0);
    v.headers("headers", m.headers);
    v.bytes("body", m.body, Need::Optional, Bound::Body);
}

KEYHOLE_FIELDS(WsMessage)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.boolean("binary", m.binary, Need::Optional);
    v.bytes("payload", m.payload, Need::Optional, Bound::Body);
}

KEYHOLE_FIELDS(WsTeardown)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.integer("code", m.code, Need::Optional, 1000, 4999, 1000);
    v.text("reason", m.reason);
}

KEYHOLE_FIELDS(Ping)
{
    v.integer("nonce", m.nonce, Need::Required, 0, std::numeric_limits<quint64>::max(), quint64(0));
}

KEYHOLE_FIELDS(Pong)
{
    v.integer("nonce", m.nonce, Need::Required, 0, std::numeric_limits<quint64>::max(), quint64(0));
}

KEYHOLE_FIELDS(Goodbye)
{
    v.bytes("code", m.code, Need::Required, Bound::String);
    v.text("reason", m.reason);
}

KEYHOLE_FIELDS(HttpBody)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.bytes("data", m.data, Need::Optional, Bound::Body);
    v.boolean("end", m.end, Need::Optional);
}

KEYHOLE_FIELDS(HttpCredit)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.integer("bytes", m.bytes, Need::Required, 1, std::numeric_limits<qint64>::max(), qint64(0));
}

KEYHOLE_FIELDS(HttpCancel)
{
    v.bytes("id", m.id, Need::NonEmpty, Bound::String);
    v.text("reason", m.reason);
}

#undef KEYHOLE_FIELDS

} // namespace keyhole::protocol::schema
