#include "websocket/MessageDecoder.h"

#include "websocket/Masking.h"

#include <QIODevice>
#include <QStringDecoder>

#include <algorithm>
#include <cstring>
#include <limits>

namespace keyhole::websocket {

namespace {

// Strict: overlong forms, surrogates and code points past U+10FFFF are errors in Qt's decoder.
std::optional<QString> decodeUtf8(const char *data, qsizetype size)
{
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    QString text = decoder.decode(QByteArrayView(data, size));
    if (decoder.hasError())
        return std::nullopt;
    return text;
}

} // namespace

MessageDecoder::MessageDecoder(Role role, qint64 maxMessageBytes)
    : m_role(role)
    , m_maxMessageBytes(maxMessageBytes)
{
}

void MessageDecoder::feed(QByteArray bytes)
{
    if (m_inPos == m_in.size()) {
        m_in = std::move(bytes); // the usual case: nothing left over, no copy
        m_inPos = 0;
        return;
    }
    if (m_inPos > 0) {
        m_in.remove(0, m_inPos);
        m_inPos = 0;
    }
    m_in.append(bytes);
}

int MessageDecoder::headerSize() const
{
    if (m_headerLen < 2)
        return 2;
    const int len7 = m_header[1] & 0x7F;
    return 2 + (len7 == 126 ? 2 : len7 == 127 ? 8 : 0) + ((m_header[1] & 0x80) ? 4 : 0);
}

qsizetype MessageDecoder::take(char *dst, qsizetype max, QIODevice *device)
{
    const qsizetype buffered = m_in.size() - m_inPos;
    if (buffered > 0) {
        const qsizetype n = std::min(max, buffered);
        std::memcpy(dst, m_in.constData() + m_inPos, size_t(n));
        m_inPos += n;
        if (m_inPos == m_in.size()) {
            m_in.clear(); // all copied out; do not hold on to the chunk
            m_inPos = 0;
        }
        return n;
    }
    // Only when something is there: a small read of an empty QIODevice makes it reserve a read
    // chunk (16 KiB) that it then keeps for good, a page or two of RSS per idle tunnel.
    if (!device || device->bytesAvailable() <= 0)
        return 0;
    const qint64 n = device->read(dst, max);
    return n > 0 ? qsizetype(n) : 0;
}

std::optional<Message> MessageDecoder::next(QIODevice *device)
{
    while (m_error == 0) {
        if (m_stage == Stage::Header) {
            for (int size = headerSize(); m_headerLen < size; size = headerSize()) {
                const qsizetype n = take(reinterpret_cast<char *>(m_header) + m_headerLen, size - m_headerLen, device);
                if (n == 0)
                    return std::nullopt;
                m_headerLen += int(n);
            }
            if (!startFrame())
                return std::nullopt;
        }
        while (m_remaining > 0) {
            char *dst = m_target->data() + m_targetPos;
            const qsizetype max = qsizetype(
                std::min<quint64>(m_remaining, quint64(std::numeric_limits<qsizetype>::max())));
            const qsizetype n = take(dst, max, device);
            if (n == 0)
                return std::nullopt;
            if (m_masked)
                applyMask(dst, n, m_mask, m_maskPhase);
            m_maskPhase = int((m_maskPhase + n) & 3);
            m_targetPos += n;
            m_remaining -= quint64(n);
        }
        m_stage = Stage::Header;
        m_headerLen = 0;
        if (std::optional<Message> message = finishFrame())
            return message;
    }
    return std::nullopt;
}

bool MessageDecoder::startFrame()
{
    const uchar b0 = m_header[0];
    const uchar b1 = m_header[1];
    m_fin = (b0 & 0x80) != 0;
    if (b0 & 0x70) {
        fail(CloseProtocolError, QStringLiteral("reserved bits set without an extension"));
        return false;
    }
    const quint8 opcode = b0 & 0x0F;
    m_masked = (b1 & 0x80) != 0;
    if (m_role == Role::Server && !m_masked) {
        fail(CloseProtocolError, QStringLiteral("unmasked frame from a client"));
        return false;
    }
    if (m_role == Role::Client && m_masked) {
        fail(CloseProtocolError, QStringLiteral("masked frame from a server"));
        return false;
    }

    quint64 length = b1 & 0x7F;
    if (length == 126) {
        length = quint64(m_header[2]) << 8 | m_header[3];
        if (length < 126) {
            fail(CloseProtocolError, QStringLiteral("frame length not minimally encoded"));
            return false;
        }
    } else if (length == 127) {
        length = 0;
        for (int i = 0; i < 8; ++i)
            length = length << 8 | m_header[2 + i];
        if (length >> 63) {
            fail(CloseProtocolError, QStringLiteral("frame length with the most significant bit set"));
            return false;
        }
        if (length <= 0xFFFF) {
            fail(CloseProtocolError, QStringLiteral("frame length not minimally encoded"));
            return false;
        }
    }
    if (m_masked)
        std::memcpy(m_mask.data(), m_header + headerSize() - 4, 4);
    m_maskPhase = 0;

    switch (Opcode(opcode)) {
    case Opcode::Close:
    case Opcode::Ping:
    case Opcode::Pong:
        if (!m_fin) {
            fail(CloseProtocolError, QStringLiteral("fragmented control frame"));
            return false;
        }
        if (length > quint64(kMaxControlPayload)) {
            fail(CloseProtocolError, QStringLiteral("control frame longer than 125 bytes"));
            return false;
        }
        m_control.resize(qsizetype(length));
        m_target = &m_control;
        m_targetPos = 0;
        break;
    case Opcode::Continuation:
    case Opcode::Text:
    case Opcode::Binary: {
        if (Opcode(opcode) == Opcode::Continuation && !m_inMessage) {
            fail(CloseProtocolError, QStringLiteral("continuation frame outside a fragmented message"));
            return false;
        }
        if (Opcode(opcode) != Opcode::Continuation) {
            if (m_inMessage) {
                fail(CloseProtocolError, QStringLiteral("new message inside a fragmented message"));
                return false;
            }
            m_messageOpcode = Opcode(opcode);
            m_message.clear();
        }
        // Before any allocation: a header may announce up to 2^63 bytes.
        const quint64 have = quint64(m_message.size());
        if (length > quint64(m_maxMessageBytes) || have + length > quint64(m_maxMessageBytes)) {
            fail(CloseTooBig, QStringLiteral("message larger than %1 bytes").arg(m_maxMessageBytes));
            return false;
        }
        const qsizetype needed = qsizetype(have + length);
        if (m_message.capacity() < needed) // fragments: grow geometrically, within the limit
            m_message.reserve(qsizetype(std::min<qint64>(m_maxMessageBytes, std::max<qint64>(needed, 2 * have))));
        m_message.resize(needed);
        m_target = &m_message;
        m_targetPos = qsizetype(have);
        m_inMessage = true;
        break;
    }
    default:
        fail(CloseProtocolError, QStringLiteral("unknown opcode %1").arg(opcode));
        return false;
    }
    m_frameOpcode = Opcode(opcode);
    m_remaining = length;
    m_stage = Stage::Payload;
    return true;
}

std::optional<Message> MessageDecoder::finishFrame()
{
    Message message;
    switch (m_frameOpcode) {
    case Opcode::Ping:
    case Opcode::Pong:
        message.opcode = m_frameOpcode;
        message.payload = m_control;
        return message;
    case Opcode::Close: {
        message.opcode = Opcode::Close;
        message.closeCode = CloseNoStatus;
        if (m_control.size() == 1) {
            fail(CloseProtocolError, QStringLiteral("close frame with a one-byte payload"));
            return std::nullopt;
        }
        if (m_control.size() >= 2) {
            const auto *p = reinterpret_cast<const uchar *>(m_control.constData());
            message.closeCode = quint16(p[0] << 8 | p[1]);
            if (!isSendableCloseCode(message.closeCode)) {
                fail(CloseProtocolError, QStringLiteral("invalid close code %1").arg(message.closeCode));
                return std::nullopt;
            }
            std::optional<QString> reason = decodeUtf8(m_control.constData() + 2, m_control.size() - 2);
            if (!reason) {
                fail(CloseInvalidPayload, QStringLiteral("close reason is not valid UTF-8"));
                return std::nullopt;
            }
            message.text = std::move(*reason);
        }
        return message;
    }
    default:
        break;
    }
    if (!m_fin)
        return std::nullopt; // more fragments to come
    m_inMessage = false;
    message.opcode = m_messageOpcode;
    if (m_messageOpcode == Opcode::Text) {
        std::optional<QString> text = decodeUtf8(m_message.constData(), m_message.size());
        m_message.clear();
        if (!text) {
            fail(CloseInvalidPayload, QStringLiteral("text message is not valid UTF-8"));
            return std::nullopt;
        }
        message.text = std::move(*text);
        return message;
    }
    message.payload = std::exchange(m_message, QByteArray());
    return message;
}

void MessageDecoder::fail(quint16 code, const QString &why)
{
    m_error = code;
    m_errorString = why;
    m_message.clear();
    m_in.clear();
    m_inPos = 0;
}

} // namespace keyhole::websocket
