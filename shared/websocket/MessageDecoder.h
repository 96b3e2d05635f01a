#pragma once

#include "websocket/WebSocketFrame.h"

#include <QByteArray>
#include <QString>

#include <optional>

class QIODevice;

namespace keyhole::websocket {

// One complete WebSocket message, or a control frame.
struct Message {
    Opcode opcode = Opcode::Binary; // Text, Binary, Close, Ping or Pong; never Continuation
    QByteArray payload;             // Binary, Ping, Pong
    QString text;                   // Text (valid UTF-8), Close reason
    quint16 closeCode = 0;          // Close: the peer's code, CloseNoStatus when it gave none
};

// A streaming RFC 6455 decoder: feed() it bytes, or let next() read from a QIODevice, and take
// messages with next() until it returns nothing. Reassembles fragmented messages, lets control frames
// interleave with their fragments, and validates strictly; the first violation stops it for good, and
// error() is the close code to answer with (1002 protocol, 1007 invalid UTF-8, 1009 too big). A
// message's size is checked against the limit from its frame headers, before any of it is allocated.
// Payloads are copied once, straight into the message (from the device's buffer or the fed bytes),
// and unmasked there in place.
class MessageDecoder
{
public:
    // `role` is ours: a Server requires masked frames, a Client unmasked ones.
    MessageDecoder(Role role, qint64 maxMessageBytes);

    void setMaxMessageBytes(qint64 max) { m_maxMessageBytes = max; }
    qint64 maxMessageBytes() const { return m_maxMessageBytes; }

    void feed(QByteArray bytes);
    // The next message or control frame: from the fed bytes first, then read from `device` (if given)
    // no further than the message needs. Nothing when more input is needed or after an error.
    std::optional<Message> next(QIODevice *device = nullptr);

    // 0 while the stream is valid; otherwise the close code for the first violation.
    quint16 error() const { return m_error; }
    QString errorString() const { return m_errorString; }

private:
    enum class Stage { Header, Payload };

    // Copies up to `max` input bytes to `dst`: fed bytes first, then from the device.
    qsizetype take(char *dst, qsizetype max, QIODevice *device);
    int headerSize() const;
    bool startFrame();
    std::optional<Message> finishFrame();
    void fail(quint16 code, const QString &why);

    Role m_role;
    qint64 m_maxMessageBytes;
    QByteArray m_in;
    qsizetype m_inPos = 0;

    Stage m_stage = Stage::Header;
    uchar m_header[kMaxFrameHeaderBytes] = {};
    int m_headerLen = 0;
    Opcode m_frameOpcode = Opcode::Binary;
    bool m_fin = false;
    bool m_masked = false;
    MaskKey m_mask = {};
    int m_maskPhase = 0;
    quint64 m_remaining = 0;
    QByteArray *m_target = nullptr; // where the current frame's payload goes
    qsizetype m_targetPos = 0;

    bool m_inMessage = false; // a fragmented message has begun and its final frame not come
    Opcode m_messageOpcode = Opcode::Binary;
    QByteArray m_message;
    QByteArray m_control;

    quint16 m_error = 0;
    QString m_errorString;
};

} // namespace keyhole::websocket
