#pragma once

#include "protocol/FrameEncoder.h"
#include "protocol/Messages.h"

#include <QString>

#include <optional>

namespace keyhole::protocol {

// Bounds for decoding untrusted frames. The frame itself is bounded by the WebSocket's maximum
// message size; these bound what is inside it.
struct DecodeLimits {
    qsizetype maxHeaders = 256;                // entries in one header list
    qsizetype maxHeaderBytes = 256 * 1024;     // names + values of one header list
    qsizetype maxStringBytes = 64 * 1024;      // any text or id field other than bodies/payloads/tokens
    qsizetype maxBodyBytes = 64 * 1024 * 1024; // bodies and WebSocket payloads
};

struct DecodeResult {
    std::optional<Message> message;
    QString error; // empty when message is set; otherwise a one-line reason for logs and Goodbye
    // The version the peer wrote. Other than kProtocolVersion only for the registration messages and
    // Goodbye, whose layout never changes: the receiver refuses the peer with Goodbye::CodeVersion.
    int version = 0;

    explicit operator bool() const { return message.has_value(); }
};

// The wire format: one binary WebSocket frame holds one CBOR map (RFC 8949)
//   { "v": kProtocolVersion, "t": <MessageType id>, <fields of the message> }
// with bodies as CBOR byte strings and headers as an array of [name, value] byte-string pairs.
// docs/PROTOCOL.md lists every field. Stateless and thread-safe.
class Codec
{
public:
    // `version` other than kProtocolVersion only to refuse a peer of that version in its own words.
    static QByteArray encode(const Message &message, int version = kProtocolVersion);
    // The same bytes in parts, a large body shared rather than copied (see EncodedFrame): for a
    // writer that takes the parts as they are (WebSocketChannel::sendBinaryMessageParts()).
    static EncodedFrame encodeParts(const Message &message, int version = kProtocolVersion);

    // Strict: a version other than ours (but see DecodeResult::version), unknown type, missing or mistyped field,
    // trailing bytes or anything over the limits gives an error, never a crash or a partial message.
    static DecodeResult decode(const QByteArray &frame, const DecodeLimits &limits = {});
};

} // namespace keyhole::protocol
