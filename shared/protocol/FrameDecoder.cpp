#include "protocol/FrameDecoder.h"

#include "protocol/MessageSchema.h"

#include "protocol/CborReader.h"

#include <array>
#include <cstring>
#include <limits>
#include <type_traits>

namespace keyhole::protocol {

namespace {
using namespace schema;

enum class Kind { Bytes, Text, Headers, Bool, Int, Int64, UInt64 };

struct Binding {
    const char *key = nullptr;
    Kind kind = Kind::Bytes;
    void *target = nullptr;
    Need need = Need::Optional;
    Bound bound = Bound::String;
    quint64 min = 0;
    quint64 max = 0;
    bool seen = false;
};

template <typename I> constexpr Kind kindOf()
{
    if constexpr (std::is_same_v<I, int>)
        return Kind::Int;
    else if constexpr (std::is_same_v<I, qint64>)
        return Kind::Int64;
    else {
        static_assert(std::is_same_v<I, quint64>, "unsupported integer field type");
        return Kind::UInt64;
    }
}

// Walks a schema and records where each key goes.
struct Binder {
    static constexpr int kMaxFields = 12;
    std::array<Binding, kMaxFields> fields{};
    int count = 0;

    void bind(Binding b)
    {
        Q_ASSERT(count < kMaxFields); // a schema property, not input-dependent
        fields[size_t(count++)] = b;
    }
    void bytes(const char *key, QByteArray &value, Need need, Bound bound)
    {
        bind({key, Kind::Bytes, &value, need, bound, 0, 0, false});
    }
    void text(const char *key, QString &value)
    {
        bind({key, Kind::Text, &value, Need::Optional, Bound::String, 0, 0, false});
    }
    void boolean(const char *key, bool &value, Need need)
    {
        bind({key, Kind::Bool, &value, need, Bound::String, 0, 0, false});
    }
    template <typename I> void integer(const char *key, I &value, Need need, quint64 min, quint64 max, I)
    {
        bind({key, kindOf<I>(), &value, need, Bound::String, min, max, false});
    }
    void headers(const char *key, HeaderList &value)
    {
        bind({key, Kind::Headers, &value, Need::Optional, Bound::String, 0, 0, false});
    }

    Binding *find(const QByteArray &key)
    {
        for (int i = 0; i < count; ++i) {
            if (key == fields[size_t(i)].key)
                return &fields[size_t(i)];
        }
        return nullptr;
    }
};

class FrameDecoder
{
public:
    FrameDecoder(const QByteArray &frame, const DecodeLimits &limits)
        : m_reader(frame)
        , m_frameSize(frame.size())
        , m_limits(limits)
    {
        m_key.reserve(kMaxKeyBytes); // every key of the frame is read into it: one allocation for all
    }

    DecodeResult decode();

private:
    template <typename T> DecodeResult decodeBody();

    bool readField(Binding &field);
    bool readHeaders(Binding &field, HeaderList *out);
    bool readKey(QByteArray *key);
    bool skipValue(int depth);

    using StringStatus = CborReader::StringStatus;
    StringStatus readBytes(QByteArray *out, qsizetype bound);
    StringStatus readText(QString *out, qsizetype bound);

    qint64 remaining() const { return m_frameSize - m_reader.currentOffset(); }
    bool cborFailed() const { return m_reader.failed(); }
    QString cborError() const { return m_reader.errorString(); }

    DecodeResult fail(const QString &error) const
    {
        DecodeResult result;
        result.error = m_context.isEmpty() ? error : m_context + QLatin1String(": ") + error;
        return result;
    }
    bool fieldError(const Binding &field, const QString &what)
    {
        m_error = QStringLiteral("field '%1' %2").arg(QLatin1String(field.key), what);
        return false;
    }

    CborReader m_reader;
    qint64 m_frameSize;
    const DecodeLimits &m_limits;
    QString m_context; // message type name once known, prefixes every error
    QString m_error;
    int m_version = 0;
    QByteArray m_key; // the map key being read
};

FrameDecoder::StringStatus FrameDecoder::readBytes(QByteArray *out, qsizetype bound)
{
    return m_reader.readString(out, bound);
}

FrameDecoder::StringStatus FrameDecoder::readText(QString *out, qsizetype bound)
{
    QByteArray utf8;
    const StringStatus status = m_reader.readString(&utf8, bound); // validates UTF-8
    if (status == StringStatus::Ok)
        *out = QString::fromUtf8(utf8);
    return status;
}

bool FrameDecoder::readKey(QByteArray *key)
{
    if (!m_reader.isString()) {
        m_error = cborFailed() ? QStringLiteral("invalid CBOR: %1").arg(cborError())
                               : QStringLiteral("map keys must be text strings");
        return false;
    }
    switch (readBytes(key, kMaxKeyBytes)) {
    case StringStatus::Ok:
        return true;
    case StringStatus::TooLong:
        m_error = QStringLiteral("map key longer than %1 bytes").arg(kMaxKeyBytes);
        return false;
    case StringStatus::Invalid:
        break;
    }
    m_error = QStringLiteral("invalid CBOR in a map key: %1").arg(cborError());
    return false;
}

// Skips one value of an unknown key, refusing deep nesting and lengths the frame cannot hold.
bool FrameDecoder::skipValue(int depth)
{
    if (depth > kMaxDepth) {
        m_error = QStringLiteral("nesting deeper than %1 levels").arg(kMaxDepth);
        return false;
    }
    if (m_reader.isContainer()) {
        if (m_reader.isLengthKnown() && m_reader.length() > quint64(remaining())) {
            m_error = QStringLiteral("truncated frame");
            return false;
        }
        if (!m_reader.enterContainer())
            return false;
        while (m_reader.hasNext()) {
            if (!skipValue(depth + 1))
                return false;
        }
        if (cborFailed())
            return false;
        return m_reader.leaveContainer();
    }
    if (m_reader.isByteArray() || m_reader.isString()) {
        QByteArray ignored;
        return readBytes(&ignored, qsizetype(remaining())) == StringStatus::Ok;
    }
    if (m_reader.isTag()) {
        if (!m_reader.next())
            return false;
        return skipValue(depth + 1);
    }
    if (m_reader.isInvalid())
        return false;
    return m_reader.next();
}

bool FrameDecoder::readHeaders(Binding &field, HeaderList *out)
{
    if (!m_reader.isArray())
        return fieldError(field, QStringLiteral("must be an array of [name, value] byte-string pairs"));
    if (m_reader.isLengthKnown() && m_reader.length() > quint64(m_limits.maxHeaders))
        return fieldError(field, QStringLiteral("has more than %1 entries").arg(m_limits.maxHeaders));
    if (m_reader.isLengthKnown() && m_reader.length() > quint64(remaining()))
        return fieldError(field, QStringLiteral("is truncated"));
    out->clear();
    if (m_reader.isLengthKnown())
        out->reserve(qsizetype(m_reader.length()));
    if (!m_reader.enterContainer())
        return false;

    qsizetype headerBytes = 0;
    while (m_reader.hasNext()) {
        if (out->size() >= m_limits.maxHeaders)
            return fieldError(field, QStringLiteral("has more than %1 entries").arg(m_limits.maxHeaders));
        if (!m_reader.isArray() || (m_reader.isLengthKnown() && m_reader.length() != 2))
            return fieldError(field, QStringLiteral("entries must be [name, value] arrays"));
        if (!m_reader.enterContainer())
            return false;
        Header header;
        for (QByteArray *part : {&header.first, &header.second}) {
            if (!m_reader.hasNext() || !m_reader.isByteArray()) {
                if (cborFailed())
                    return false;
                return fieldError(field, QStringLiteral("entries must be [name, value] byte-string pairs"));
            }
            switch (readBytes(part, m_limits.maxHeaderBytes - headerBytes)) {
            case StringStatus::Ok:
                headerBytes += part->size();
                break;
            case StringStatus::TooLong:
                return fieldError(field, QStringLiteral("exceeds %1 bytes").arg(m_limits.maxHeaderBytes));
            case StringStatus::Invalid:
                return false;
            }
        }
        if (m_reader.hasNext())
            return fieldError(field, QStringLiteral("entries must be [name, value] arrays"));
        if (cborFailed() || !m_reader.leaveContainer())
            return false;
        out->append(std::move(header));
    }
    if (cborFailed())
        return false;
    return m_reader.leaveContainer();
}

bool FrameDecoder::readField(Binding &field)
{
    switch (field.kind) {
    case Kind::Bytes: {
        if (!m_reader.isByteArray())
            return fieldError(field, QStringLiteral("must be a byte string"));
        const qsizetype bound = field.bound == Bound::Body ? m_limits.maxBodyBytes : m_limits.maxStringBytes;
        auto *value = static_cast<QByteArray *>(field.target);
        switch (readBytes(value, bound)) {
        case StringStatus::Ok:
            break;
        case StringStatus::TooLong:
            return fieldError(field, QStringLiteral("exceeds %1 bytes").arg(bound));
        case StringStatus::Invalid:
            return false;
        }
        if (field.need == Need::NonEmpty && value->isEmpty())
            return fieldError(field, QStringLiteral("must not be empty"));
        return true;
    }
    case Kind::Text:
        if (!m_reader.isString())
            return fieldError(field, QStringLiteral("must be a text string"));
        switch (readText(static_cast<QString *>(field.target), m_limits.maxStringBytes)) {
        case StringStatus::Ok:
            return true;
        case StringStatus::TooLong:
            return fieldError(field, QStringLiteral("exceeds %1 bytes").arg(m_limits.maxStringBytes));
        case StringStatus::Invalid:
            return false;
        }
        return false;
    case Kind::Headers:
        return readHeaders(field, static_cast<HeaderList *>(field.target));
    case Kind::Bool:
        if (!m_reader.isBool())
            return fieldError(field, QStringLiteral("must be a boolean"));
        *static_cast<bool *>(field.target) = m_reader.toBool();
        return m_reader.next();
    case Kind::Int:
    case Kind::Int64:
    case Kind::UInt64: {
        if (!m_reader.isUnsignedInteger())
            return fieldError(field, QStringLiteral("must be an unsigned integer"));
        const quint64 value = m_reader.toUnsignedInteger();
        if (value < field.min || value > field.max)
            return fieldError(field, QStringLiteral("must be in %1..%2").arg(field.min).arg(field.max));
        if (field.kind == Kind::Int)
            *static_cast<int *>(field.target) = int(value); // max fits: the schema bounds are small
        else if (field.kind == Kind::Int64)
            *static_cast<qint64 *>(field.target) = qint64(value);
        else
            *static_cast<quint64 *>(field.target) = value;
        return m_reader.next();
    }
    }
    return false;
}

template <typename T> DecodeResult FrameDecoder::decodeBody()
{
    T message;
    Binder binder;
    fields(binder, message);

    QByteArray &key = m_key;
    while (m_reader.hasNext()) {
        if (!readKey(&key))
            return fail(m_error);
        if (key == "v" || key == "t")
            return fail(QStringLiteral("duplicate key '%1'").arg(QString::fromLatin1(key)));
        Binding *field = binder.find(key);
        bool ok;
        if (!field) {
            // Forward compatibility: a newer peer may add optional fields.
            ok = skipValue(2);
        } else if (field->seen) {
            return fail(QStringLiteral("duplicate key '%1'").arg(QString::fromLatin1(key)));
        } else {
            field->seen = true;
            ok = readField(*field);
        }
        if (!ok) {
            const QString where = QString::fromUtf8(key);
            if (m_reader.truncated())
                m_error = QStringLiteral("field '%1' is truncated").arg(where);
            else if (cborFailed())
                m_error = QStringLiteral("invalid CBOR in field '%1': %2").arg(where, cborError());
            else if (m_error.isEmpty())
                m_error = QStringLiteral("field '%1' is truncated").arg(where);
            return fail(m_error);
        }
    }
    if (cborFailed())
        return fail(QStringLiteral("invalid CBOR: %1").arg(cborError()));
    for (int i = 0; i < binder.count; ++i) {
        const Binding &field = binder.fields[size_t(i)];
        if (field.need != Need::Optional && !field.seen)
            return fail(QStringLiteral("missing required field '%1'").arg(QLatin1String(field.key)));
    }
    if (!m_reader.leaveContainer())
        return fail(QStringLiteral("invalid CBOR: %1").arg(cborError()));
    if (m_reader.currentOffset() != m_frameSize)
        return fail(QStringLiteral("%1 trailing bytes after the map").arg(m_frameSize - m_reader.currentOffset()));

    DecodeResult result;
    result.message.emplace(std::in_place_type<T>, std::move(message));
    result.version = m_version;
    return result;
}

DecodeResult FrameDecoder::decode()
{
    if (m_frameSize == 0)
        return fail(QStringLiteral("empty frame"));
    if (!m_reader.isMap()) {
        if (cborFailed())
            return fail(QStringLiteral("invalid CBOR: %1").arg(cborError()));
        return fail(QStringLiteral("frame is not a CBOR map"));
    }
    if (m_reader.isLengthKnown() && m_reader.length() > quint64(remaining()))
        return fail(QStringLiteral("truncated frame"));
    if (!m_reader.enterContainer())
        return fail(QStringLiteral("invalid CBOR: %1").arg(cborError()));

    // "v" and "t" come first so the rest can be decoded in one pass against the right schema.
    QByteArray &key = m_key;
    quint64 envelope[2] = {0, 0};
    const char *const names[2] = {"v", "t"};
    for (int i = 0; i < 2; ++i) {
        if (!m_reader.hasNext())
            return fail(QStringLiteral("frame must start with key '%1'").arg(QLatin1String(names[i])));
        if (!readKey(&key))
            return fail(m_error);
        if (key != names[i])
            return fail(QStringLiteral("frame must start with keys 'v' then 't'"));
        if (!m_reader.isUnsignedInteger()) {
            if (cborFailed())
                return fail(QStringLiteral("invalid CBOR: %1").arg(cborError()));
            return fail(QStringLiteral("field '%1' must be an unsigned integer").arg(QLatin1String(names[i])));
        }
        envelope[i] = m_reader.toUnsignedInteger();
        if (!m_reader.next())
            return fail(QStringLiteral("invalid CBOR: %1").arg(cborError()));
    }
    const quint64 typeId = envelope[1];
    if (typeId > quint64(std::numeric_limits<int>::max()))
        return fail(QStringLiteral("unknown message type %1").arg(typeId));
    const auto type = static_cast<MessageType>(int(typeId));
    // The registration messages and Goodbye keep their layout in every version, so they are read
    // whatever version the peer speaks: the receiver can then refuse it in words.
    const bool frozenLayout = type == MessageType::RegistrationRequest || type == MessageType::RegistrationResponse
        || type == MessageType::Goodbye;
    if (envelope[0] != quint64(kProtocolVersion) && !(frozenLayout && envelope[0] >= 1 && envelope[0] <= 0xffff))
        return fail(
            QStringLiteral("unsupported protocol version %1 (expected %2)").arg(envelope[0]).arg(kProtocolVersion));
    m_version = int(envelope[0]);
    m_context = QLatin1String(messageTypeName(type));
    // A request or an answer lives as long as its exchange: its headers may share the frame.
    m_reader.setShareSmallStrings(type == MessageType::HttpRequest || type == MessageType::HttpResponse);
    switch (type) {
#define KEYHOLE_DECODE_CASE(id, name)                                                                                  \
    case MessageType::name:                                                                                            \
        return decodeBody<name>();
        KEYHOLE_MESSAGE_TYPES(KEYHOLE_DECODE_CASE)
#undef KEYHOLE_DECODE_CASE
    }
    m_context.clear();
    return fail(QStringLiteral("unknown message type %1").arg(typeId));
}

} // namespace

DecodeResult decodeFrame(const QByteArray &frame, const DecodeLimits &limits)
{
    FrameDecoder decoder(frame, limits);
    return decoder.decode();
}

} // namespace keyhole::protocol
