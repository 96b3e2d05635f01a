#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace keyhole::proxy {

// What travels between instances over Redis pub/sub: a small binary header and, for messages, the
// protocol message exactly as the control channel carries it (CBOR, bodies as byte strings: no base64).
//
//   "KH" 0x01 kind:u8 epoch:u64be srcLen:u8 src keyLen:u16be key payload...
//
// epoch is the fencing number of the tunnel's ownership the sender acted on; src the sending
// instance; key a tunnel label (ToTunnel) or a request id. The epoch sits at a fixed offset after a
// fixed 4-byte head so that the routing script in Redis can put in the owner's epoch itself
// (head .. epoch .. tail) without parsing anything. See docs/PROTOCOL.md.
struct RedisEnvelope {
    enum class Kind : quint8 {
        ToTunnel = 1,  // visitor side -> the instance holding the tunnel; key = label, payload = message
        ToVisitor = 2, // tunnel side -> the instance that made the request; key = id, payload = message
        Failure = 3,   // tunnel side -> visitor side: the exchange failed; key = id, payload = failure
        Credit = 4,    // flow control: "I have taken N more of your bytes"; payload = u64be
        Heartbeat = 5, // an instance to itself, proving its subscription works; payload = u64be nonce
    };
    static constexpr qsizetype kHeadBytes = 4;
    static constexpr qsizetype kMaxSourceBytes = 32;
    static constexpr qsizetype kMaxKeyBytes = 512;

    Kind kind = Kind::ToTunnel;
    quint64 epoch = 0;
    QByteArray source;
    QByteArray key;
    QByteArray payload;

    QByteArray encode() const;
    // The parts around the epoch, for the routing script.
    static QByteArray head(Kind kind);
    QByteArray tail() const;

    // Checks every length against the frame and the bounds; nullopt with *error on anything else.
    static std::optional<RedisEnvelope> decode(const QByteArray &frame, qsizetype maxFrameBytes, QString *error);

    // Failure payload: status u16be, retryAfter u32be, reason (UTF-8, at most 1 KiB).
    static QByteArray encodeFailure(int status, int retryAfterSecs, const QString &reason);
    static bool decodeFailure(const QByteArray &payload, int *status, int *retryAfterSecs, QString *reason);
    static QByteArray encodeNumber(quint64 value);
    static std::optional<quint64> decodeNumber(const QByteArray &payload);
};

} // namespace keyhole::proxy
