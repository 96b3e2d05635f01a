#pragma once

#include "protocol/SharedSlice.h"

#include <QByteArray>
#include <QByteArrayView>
#include <QString>
#include <QVarLengthArray>

namespace keyhole::protocol {

// A strict, single-pass CBOR (RFC 8949) reader over a frame already in memory, with the navigation
// model of QCborStreamReader (current item, enter/leave containers) but reading strings straight
// out of the frame: one allocation per string instead of a QIODevice round trip per chunk, which
// made decoding the largest cost per request. Every length is checked against the bytes that are
// left before anything is allocated; malformed input sets an error and makes every later step fail.
class CborReader
{
public:
    enum class Type {
        UnsignedInteger,
        NegativeInteger,
        ByteString,
        TextString,
        Array,
        Map,
        Tag,
        Simple,
        Float,
        Invalid
    };
    enum class StringStatus { Ok, TooLong, Invalid };
    static constexpr qsizetype kShareBytes = 4096;

    // `data` must outlive the reader: strings are read out of it as the reader goes.
    explicit CborReader(QByteArrayView data);
    // The same; byte strings of kShareBytes or more are not copied but share data's allocation
    // (sharedSlice()): a body decoded out of a frame costs neither a copy nor an allocation.
    explicit CborReader(const QByteArray &data);
    // A temporary would be freed before the first read (the sanitizer build caught a test doing so).
    explicit CborReader(QByteArray &&) = delete;

    // Frames of at most this allocation may share every byte string, not only large ones (see
    // setShareSmallStrings()).
    static constexpr qsizetype kSmallFrameBytes = kSmallSliceOwnerBytes;
    // Byte strings of any size share data's allocation when that allocation is small: for messages
    // that live as long as one exchange, a header's name and value then cost no allocation each.
    // Not for what is kept longer (a registration, a tunnel's name): it would keep the frame alive.
    void setShareSmallStrings(bool share) { m_shareSmall = share; }

    Type type() const { return m_type; }
    bool isMap() const { return m_type == Type::Map; }
    bool isArray() const { return m_type == Type::Array; }
    bool isContainer() const { return isMap() || isArray(); }
    bool isByteArray() const { return m_type == Type::ByteString; }
    bool isString() const { return m_type == Type::TextString; }
    bool isUnsignedInteger() const { return m_type == Type::UnsignedInteger; }
    bool isTag() const { return m_type == Type::Tag; }
    bool isBool() const { return m_type == Type::Simple && (m_value == 20 || m_value == 21); }
    bool isInvalid() const { return m_type == Type::Invalid; }
    bool isLengthKnown() const { return !m_indefinite; }
    // Entries of a map, items of an array, bytes of a definite string.
    quint64 length() const { return m_value; }
    quint64 toUnsignedInteger() const { return m_value; }
    bool toBool() const { return m_value == 21; }

    // More items in the current container (at the top level: more data).
    bool hasNext() const;
    // Steps over the current item; a tag steps to the item it tags.
    bool next();
    bool enterContainer();
    // Expects the current container's end; steps past it.
    bool leaveContainer();
    // Reads the current byte or text string (all chunks), at most `bound` bytes, and steps past it.
    // A text string must be valid UTF-8.
    StringStatus readString(QByteArray *out, qsizetype bound);

    qsizetype currentOffset() const { return qsizetype(m_pos - m_begin); }
    bool failed() const { return !m_error.isEmpty(); }
    QString errorString() const { return m_error; }
    // The error is that the data ended inside an item.
    bool truncated() const { return m_truncated; }

private:
    struct Level {
        qint64 remaining; // items left in a definite container, -1 for an indefinite one
    };

    void parseHead();
    void consumed();
    bool fail(const char *error);
    bool failTruncated();
    bool skip(int depth);
    StringStatus readChunks(QByteArray *out, qsizetype bound);
    qsizetype left() const { return qsizetype(m_end - m_pos); }

    bool m_shareSmall = false;
    const QByteArray *m_owner = nullptr; // the frame's QByteArray, to share large byte strings with
    const uchar *m_begin;
    const uchar *m_pos;
    const uchar *m_end;
    QVarLengthArray<Level, 8> m_levels;
    Type m_type = Type::Invalid;
    quint64 m_value = 0;
    bool m_indefinite = false;
    int m_headSize = 0;
    QString m_error;
    bool m_truncated = false;
};

} // namespace keyhole::protocol
