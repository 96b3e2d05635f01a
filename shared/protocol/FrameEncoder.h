#pragma once

#include "protocol/Messages.h"

#include <QByteArray>

namespace keyhole::protocol {

// Writes one frame in two passes over the schema: first the size, so the output is allocated once.
QByteArray encodeFrame(const Message &message, int version);

// The same bytes as encodeFrame() in up to three consecutive parts. A body field of at least
// kSplitBodyBytes (a body, data or payload) is not copied: `body` shares it, `head` ends with its
// byte-string head and `tail` holds the fields after it. Otherwise everything is in `head`.
struct EncodedFrame {
    static constexpr qsizetype kSplitBodyBytes = 4096;

    QByteArray head;
    QByteArray body;
    QByteArray tail;

    qsizetype size() const { return head.size() + body.size() + tail.size(); }
    QByteArray joined() const { return head + body + tail; }
};
EncodedFrame encodeFrameParts(const Message &message, int version);

} // namespace keyhole::protocol
