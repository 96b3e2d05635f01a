#include "http/RequestFramingCheck.h"

#include "http/HttpSyntax.h"

#include <algorithm>
#include <limits>

namespace keyhole::http {

namespace {

inline bool isWs(char c)
{
    return c == ' ' || c == '\t';
}

inline int hexValue(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

// RFC 9110 5.5: field-vchar / SP / HTAB, obs-text included; every other control byte is refused.
inline bool isFieldContentChar(char c)
{
    const auto u = static_cast<unsigned char>(c);
    return c == '\t' || (u >= 0x20 && u != 0x7f);
}

// 16 hex digits hold any size we could accept; more can only be an overflow or padding games.
constexpr int kMaxChunkSizeDigits = 16;

} // namespace

void RequestFramingCheck::reset()
{
    *this = RequestFramingCheck();
}

RequestFramingCheck::Result RequestFramingCheck::fail(const QString &text)
{
    if (m_errorText.isEmpty())
        m_errorText = text;
    return Result::Error;
}

RequestFramingCheck::Result RequestFramingCheck::scanHead(const char *data, qsizetype len, qsizetype *end)
{
    if (!m_errorText.isEmpty())
        return Result::Error;
    for (qsizetype i = 0; i < len; ++i) {
        const char c = data[i];
        if (c == '\0')
            return fail(QStringLiteral("NUL byte in the request head"));
        switch (m_head) {
        case HeadState::LineStart:
            if (c == '\r') {
                m_head = HeadState::CR;
                break;
            }
            if (c == '\n')
                return fail(QStringLiteral("bare LF in the request head"));
            // RFC 9112 5.2: obs-fold is refused, and 2.2: so is whitespace before the first field.
            if (isWs(c) && m_headLine > 0)
                return fail(QStringLiteral("folded header line (obs-fold)"));
            if (!isFieldContentChar(c))
                return fail(QStringLiteral("control character in the request head"));
            m_head = HeadState::InLine;
            m_lineBytes = 1;
            break;
        case HeadState::InLine:
            if (c == '\r') {
                m_head = HeadState::CR;
                break;
            }
            if (c == '\n')
                return fail(QStringLiteral("bare LF in the request head"));
            if (!isFieldContentChar(c))
                return fail(QStringLiteral("control character in the request head"));
            ++m_lineBytes;
            break;
        case HeadState::CR:
            if (c != '\n')
                return fail(QStringLiteral("bare CR in the request head"));
            if (m_lineBytes == 0 && m_headLine > 0) {
                m_head = HeadState::Done;
                *end = i + 1;
                return Result::Done;
            }
            if (m_lineBytes > 0) // an empty line before the request line is skipped
                ++m_headLine;
            m_lineBytes = 0;
            m_head = HeadState::LineStart;
            break;
        case HeadState::Done:
            *end = i;
            return Result::Done;
        }
    }
    if (m_head == HeadState::Done) {
        *end = 0;
        return Result::Done;
    }
    return Result::NeedMore;
}

bool RequestFramingCheck::extensionsValid() const
{
    // *( BWS ";" BWS token [ BWS "=" BWS ( token / quoted-string ) ] )
    const QByteArray &e = m_ext;
    qsizetype i = 0;
    const qsizetype n = e.size();
    auto skipWs = [&] {
        while (i < n && isWs(e.at(i)))
            ++i;
    };
    auto token = [&] {
        const qsizetype start = i;
        while (i < n && isTokenChar(e.at(i)))
            ++i;
        return i > start;
    };
    bool first = true;
    while (true) {
        // BWS is only allowed before ";", "=" or a value: not at the end of the line.
        const qsizetype before = i;
        skipWs();
        if (i == n)
            return i == before && !first;
        first = false;
        if (e.at(i) != ';')
            return false;
        ++i;
        skipWs();
        if (!token())
            return false;
        skipWs();
        if (i == n || e.at(i) == ';')
            continue;
        if (e.at(i) != '=')
            return false;
        ++i;
        skipWs();
        if (i < n && e.at(i) == '"') {
            ++i;
            bool closed = false;
            while (i < n && !closed) {
                const char c = e.at(i++);
                if (c == '"')
                    closed = true;
                else if (c == '\\') {
                    if (i == n || !isFieldContentChar(e.at(i)))
                        return false;
                    ++i;
                } else if (!isFieldContentChar(c)) {
                    return false;
                }
            }
            if (!closed)
                return false;
        } else if (!token()) {
            return false;
        }
    }
}

RequestFramingCheck::Result RequestFramingCheck::scanChunked(const char *data, qsizetype len, qsizetype *end)
{
    if (!m_errorText.isEmpty())
        return Result::Error;
    for (qsizetype i = 0; i < len; ++i) {
        const char c = data[i];
        switch (m_chunk) {
        case ChunkState::Size: {
            const int v = hexValue(c);
            if (v >= 0) {
                if (++m_sizeDigits > kMaxChunkSizeDigits
                    || m_chunkRemaining > (std::numeric_limits<qint64>::max() >> 4))
                    return fail(QStringLiteral("chunk size overflow"));
                m_chunkRemaining = (m_chunkRemaining << 4) | v;
                break;
            }
            if (m_sizeDigits == 0)
                return fail(QStringLiteral("invalid chunk size"));
            if (c == '\r')
                m_chunk = ChunkState::SizeLF;
            else if (c == ';' || isWs(c)) {
                m_ext = QByteArray(1, c);
                m_lineBytes = m_sizeDigits + 1;
                m_chunk = ChunkState::Ext;
            } else {
                return fail(QStringLiteral("invalid chunk size"));
            }
            break;
        }
        case ChunkState::Ext:
            if (c == '\r') {
                if (!extensionsValid())
                    return fail(QStringLiteral("invalid chunk extension"));
                m_chunk = ChunkState::SizeLF;
                break;
            }
            if (c == '\n' || c == '\0')
                return fail(QStringLiteral("invalid chunk extension"));
            if (++m_lineBytes > kMaxChunkLineBytes)
                return fail(QStringLiteral("chunk extensions longer than %1 bytes").arg(kMaxChunkLineBytes));
            m_ext.append(c);
            break;
        case ChunkState::SizeLF:
            if (c != '\n')
                return fail(QStringLiteral("chunk size line not ended by CRLF"));
            m_ext.clear();
            m_sizeDigits = 0;
            m_lineBytes = 0;
            m_chunk = m_chunkRemaining == 0 ? ChunkState::TrailerLineStart : ChunkState::Data;
            break;
        case ChunkState::Data: {
            // Skip the chunk's data in one step: only its end matters here.
            const qint64 take = std::min<qint64>(m_chunkRemaining, len - i);
            m_chunkRemaining -= take;
            i += qsizetype(take) - 1;
            if (m_chunkRemaining == 0)
                m_chunk = ChunkState::DataCR;
            break;
        }
        case ChunkState::DataCR:
            if (c != '\r')
                return fail(QStringLiteral("chunk data not followed by CRLF"));
            m_chunk = ChunkState::DataLF;
            break;
        case ChunkState::DataLF:
            if (c != '\n')
                return fail(QStringLiteral("chunk data not followed by CRLF"));
            m_chunk = ChunkState::Size;
            break;
        case ChunkState::TrailerLineStart:
            if (c == '\r')
                m_chunk = ChunkState::TrailerEndLF;
            else if (isWs(c))
                return fail(QStringLiteral("folded trailer line (obs-fold)"));
            else if (isTokenChar(c))
                m_chunk = ChunkState::TrailerName;
            else
                return fail(QStringLiteral("invalid trailer field name"));
            break;
        case ChunkState::TrailerName:
            if (c == ':')
                m_chunk = ChunkState::TrailerValue;
            else if (!isTokenChar(c))
                return fail(QStringLiteral("invalid trailer field name"));
            break;
        case ChunkState::TrailerValue:
            if (c == '\r')
                m_chunk = ChunkState::TrailerCR;
            else if (!isFieldContentChar(c))
                return fail(QStringLiteral("invalid character in a trailer field"));
            break;
        case ChunkState::TrailerCR:
            if (c != '\n')
                return fail(QStringLiteral("trailer line not ended by CRLF"));
            m_chunk = ChunkState::TrailerLineStart;
            break;
        case ChunkState::TrailerEndLF:
            if (c != '\n')
                return fail(QStringLiteral("trailer section not ended by CRLF"));
            m_chunk = ChunkState::Done;
            *end = i + 1;
            return Result::Done;
        case ChunkState::Done:
            *end = i;
            return Result::Done;
        }
    }
    if (m_chunk == ChunkState::Done) {
        *end = 0;
        return Result::Done;
    }
    return Result::NeedMore;
}

} // namespace keyhole::http
