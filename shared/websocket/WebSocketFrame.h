#pragma once

#include <QByteArray>
#include <QVarLengthArray>
#include <QtGlobal>

#include <array>

// RFC 6455 framing basics shared by the decoder, the channel and the handshake.
namespace keyhole::websocket {

// Which end of the connection we are: servers read masked frames and write unmasked ones,
// clients the other way round.
enum class Role { Client, Server };

enum class Opcode : quint8 {
    Continuation = 0x0,
    Text = 0x1,
    Binary = 0x2,
    Close = 0x8,
    Ping = 0x9,
    Pong = 0xA,
};

// RFC 6455 7.4.1, plus 1012..1014 from the IANA registry.
enum CloseCode : quint16 {
    CloseNormal = 1000,
    CloseGoingAway = 1001,
    CloseProtocolError = 1002,
    CloseUnsupportedData = 1003,
    CloseNoStatus = 1005, // never sent: a Close frame without a code
    CloseAbnormal = 1006, // never sent: the connection vanished without a Close frame
    CloseInvalidPayload = 1007,
    ClosePolicyViolated = 1008,
    CloseTooBig = 1009,
    CloseInternalError = 1011,
    CloseTryAgainLater = 1013,
};

using MaskKey = std::array<uchar, 4>;

// One message's payload as consecutive parts, sent as one frame without joining them first.
using MessageParts = QVarLengthArray<QByteArray, 3>;

constexpr int kMaxFrameHeaderBytes = 14; // 2 + 8 (64-bit length) + 4 (masking key)
constexpr int kMaxControlPayload = 125;

// A code a peer may put on the wire (1005, 1006, 1015 and unassigned ones may not be sent).
bool isSendableCloseCode(int code);

// Writes a frame header into `out` (at least kMaxFrameHeaderBytes) and returns its size. The length
// uses the shortest encoding; `mask` is null for an unmasked (server) frame.
int encodeFrameHeader(char *out, Opcode opcode, quint64 payloadLength, bool fin, const MaskKey *mask);

} // namespace keyhole::websocket
