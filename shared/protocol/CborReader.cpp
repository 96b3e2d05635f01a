#include "protocol/CborReader.h"

#include "protocol/SharedSlice.h"

#include <QStringDecoder>

#include <cstring>

namespace keyhole::protocol {

namespace {
constexpr uchar kBreak = 0xff;
constexpr int kMaxSkipDepth = 16;

// RFC 8949 §3.1: text strings are UTF-8. Keys and most values are ASCII: checked without a decoder.
bool isValidUtf8(const QByteArray &bytes)
{
    bool ascii = true;
    for (char c : bytes) {
        if (uchar(c) >= 0x80) {
            ascii = false;
            break;
        }
    }
    if (ascii)
        return true;
    QStringDecoder decoder(QStringDecoder::Utf8, QStringDecoder::Flag::Stateless);
    const QString decoded = decoder.decode(bytes);
    Q_UNUSED(decoded);
    return !decoder.hasError();
}
} // namespace

CborReader::CborReader(QByteArrayView data)
    : m_begin(reinterpret_cast<const uchar *>(data.data()))
    , m_pos(m_begin)
    , m_end(m_begin + data.size())
{
    parseHead();
}

CborReader::CborReader(const QByteArray &data)
    : CborReader(QByteArrayView(data))
{
    m_owner = &data;
}

bool CborReader::fail(const char *error)
{
    if (m_error.isEmpty())
        m_error = QString::fromLatin1(error);
    m_type = Type::Invalid;
    return false;
}

bool CborReader::failTruncated()
{
    if (m_error.isEmpty())
        m_truncated = true;
    return fail("unexpected end of data");
}

// Decodes the head of the item at m_pos into m_type/m_value/m_indefinite/m_headSize.
void CborReader::parseHead()
{
    m_type = Type::Invalid;
    m_value = 0;
    m_indefinite = false;
    m_headSize = 0;
    if (failed() || m_pos >= m_end)
        return;
    if (*m_pos == kBreak)
        return; // the end of an indefinite container: hasNext() is false
    const uchar initial = *m_pos;
    const int major = initial >> 5;
    const int info = initial & 0x1f;
    int extra = 0;
    if (info < 24) {
        m_value = quint64(info);
    } else if (info <= 27) {
        extra = 1 << (info - 24);
        if (left() < 1 + extra) {
            failTruncated();
            return;
        }
        for (int i = 0; i < extra; ++i)
            m_value = (m_value << 8) | m_pos[1 + i];
    } else if (info == 31 && major >= 2 && major <= 5) {
        m_indefinite = true;
    } else {
        fail("malformed item head");
        return;
    }
    m_headSize = 1 + extra;
    switch (major) {
    case 0:
        m_type = Type::UnsignedInteger;
        break;
    case 1:
        m_type = Type::NegativeInteger;
        break;
    case 2:
        m_type = Type::ByteString;
        break;
    case 3:
        m_type = Type::TextString;
        break;
    case 4:
        m_type = Type::Array;
        break;
    case 5:
        m_type = Type::Map;
        break;
    case 6:
        m_type = Type::Tag;
        break;
    default:
        if (info >= 25 && info <= 27) {
            m_type = Type::Float;
        } else if (info == 24 && m_value < 32) {
            fail("malformed simple value");
        } else {
            m_type = Type::Simple;
            if (info < 24)
                m_value = quint64(info);
        }
        break;
    }
}

// The current item (not a tag) has been read: one fewer left in its container.
void CborReader::consumed()
{
    if (!m_levels.isEmpty() && m_levels.last().remaining > 0)
        --m_levels.last().remaining;
    parseHead();
}

bool CborReader::hasNext() const
{
    if (failed())
        return false;
    if (m_levels.isEmpty())
        return m_pos < m_end;
    const qint64 remaining = m_levels.last().remaining;
    if (remaining >= 0)
        return remaining > 0;
    return m_pos < m_end && *m_pos != kBreak;
}

bool CborReader::next()
{
    return skip(0);
}

bool CborReader::skip(int depth)
{
    if (failed())
        return false;
    if (depth > kMaxSkipDepth)
        return fail("nesting too deep");
    switch (m_type) {
    case Type::Invalid:
        return m_pos >= m_end ? failTruncated() : fail("unexpected break");
    case Type::Tag:
        m_pos += m_headSize;
        parseHead(); // the tagged item replaces the tag in its container
        if (m_type == Type::Invalid)
            return fail("tag without an item");
        return true;
    case Type::ByteString:
    case Type::TextString: {
        QByteArray ignored;
        return readString(&ignored, left()) == StringStatus::Ok;
    }
    case Type::Array:
    case Type::Map:
        if (!enterContainer())
            return false;
        while (hasNext()) {
            if (!skip(depth + 1))
                return false;
        }
        return leaveContainer();
    case Type::Float: {
        const int size = 1 << (int(m_pos[0] & 0x1f) - 24);
        m_value = 0;
        m_pos += 1 + size; // the head check already saw those bytes
        consumed();
        return !failed();
    }
    case Type::UnsignedInteger:
    case Type::NegativeInteger:
    case Type::Simple:
        m_pos += m_headSize;
        consumed();
        return !failed();
    }
    return false;
}

bool CborReader::enterContainer()
{
    if (failed() || !isContainer())
        return fail("not a container");
    qint64 remaining = -1;
    if (!m_indefinite) {
        // Every item takes at least one byte: refuse counts the frame cannot hold before using them.
        const quint64 items = m_value;
        const quint64 room = quint64(left() - m_headSize);
        if (items > room || (isMap() && items * 2 > room))
            return failTruncated(); // cannot fit: the data ends inside it
        remaining = qint64(isMap() ? items * 2 : items);
    }
    m_pos += m_headSize;
    m_levels.append(Level{remaining});
    parseHead();
    return !failed();
}

bool CborReader::leaveContainer()
{
    if (failed() || m_levels.isEmpty())
        return fail("not in a container");
    if (hasNext())
        return fail("container has items left");
    if (m_levels.last().remaining < 0) {
        if (m_pos >= m_end)
            return failTruncated();
        ++m_pos; // the break
    } else if (m_levels.last().remaining != 0) {
        return failTruncated();
    }
    m_levels.removeLast();
    consumed();
    return !failed();
}

CborReader::StringStatus CborReader::readString(QByteArray *out, qsizetype bound)
{
    const bool text = m_type == Type::TextString;
    const StringStatus status = readChunks(out, bound);
    if (status == StringStatus::Ok && text && !isValidUtf8(*out)) {
        fail("invalid UTF-8 in a text string");
        return StringStatus::Invalid;
    }
    return status;
}

CborReader::StringStatus CborReader::readChunks(QByteArray *out, qsizetype bound)
{
    if (failed() || (m_type != Type::ByteString && m_type != Type::TextString)) {
        out->clear();
        fail("not a string");
        return StringStatus::Invalid;
    }
    if (!m_indefinite) {
        const quint64 size = m_value;
        if (bound < 0 || size > quint64(bound)) {
            out->clear();
            return StringStatus::TooLong;
        }
        if (size > quint64(left() - m_headSize)) {
            out->clear();
            failTruncated();
            return StringStatus::Invalid;
        }
        const char *bytes = reinterpret_cast<const char *>(m_pos + m_headSize);
        const bool share = m_owner && m_type == Type::ByteString
            && (qsizetype(size) >= kShareBytes || (m_shareSmall && m_owner->capacity() <= kSmallFrameBytes));
        if (share && size > 0) {
            *out = sharedSlice(*m_owner, qsizetype(bytes - m_owner->constData()), qsizetype(size));
        } else if (out->isDetached() && out->capacity() >= qsizetype(size)) {
            out->resize(qsizetype(size)); // a buffer the caller reuses (map keys): no allocation
            std::memcpy(out->data(), bytes, size_t(size));
        } else { // one allocation and one copy; append() on an empty array costs twice that
            *out = QByteArray(bytes, qsizetype(size));
        }
        m_pos += m_headSize + qsizetype(size);
        consumed();
        return failed() ? StringStatus::Invalid : StringStatus::Ok;
    }
    out->clear();
    // Indefinite: definite chunks of the same major type up to a break.
    const uchar major = *m_pos & 0xe0;
    m_pos += m_headSize;
    for (;;) {
        if (m_pos >= m_end) {
            failTruncated();
            return StringStatus::Invalid;
        }
        if (*m_pos == kBreak) {
            ++m_pos;
            consumed();
            return failed() ? StringStatus::Invalid : StringStatus::Ok;
        }
        if ((*m_pos & 0xe0) != major) {
            fail("string chunk of another type");
            return StringStatus::Invalid;
        }
        parseHead();
        if (failed() || m_indefinite) {
            fail("nested indefinite string chunk");
            return StringStatus::Invalid;
        }
        const quint64 size = m_value;
        const qsizetype room = bound - out->size();
        if (room < 0 || size > quint64(room))
            return StringStatus::TooLong;
        if (size > quint64(left() - m_headSize)) {
            failTruncated();
            return StringStatus::Invalid;
        }
        out->append(reinterpret_cast<const char *>(m_pos + m_headSize), qsizetype(size));
        m_pos += m_headSize + qsizetype(size);
    }
}

} // namespace keyhole::protocol
