#include "protocol/FrameEncoder.h"

#include "protocol/MessageSchema.h"

#include "protocol/CborWriter.h"

#include <cstring>

#include <type_traits>
#include <utility>

namespace keyhole::protocol {

namespace {
using namespace schema;

template <typename I> quint64 toWire(I value)
{
    if constexpr (std::is_signed_v<I>)
        return value < 0 ? 0 : quint64(value);
    else
        return quint64(value);
}

// First pass: how many map entries and roughly how many bytes, so the output is allocated once.
struct SizeCounter {
    quint64 entries = 0;
    qsizetype size = 0;
    qsizetype splitBody = 0; // the body field encodeFrameParts() leaves out of the head

    void add(const char *key, qsizetype payload)
    {
        ++entries;
        size += qsizetype(std::strlen(key)) + 1 + payload + 9;
    }
    void bytes(const char *key, const QByteArray &value, Need need, Bound bound)
    {
        if (need != Need::Optional || !value.isEmpty())
            add(key, value.size());
        if (bound == Bound::Body && value.size() >= EncodedFrame::kSplitBodyBytes)
            splitBody = value.size();
    }
    void text(const char *key, const QString &value)
    {
        if (!value.isEmpty())
            add(key, value.size() * 3);
    }
    void boolean(const char *key, bool value, Need need)
    {
        if (need != Need::Optional || value)
            add(key, 0);
    }
    template <typename I> void integer(const char *key, I value, Need need, quint64, quint64, I defaultValue)
    {
        if (need != Need::Optional || value != defaultValue)
            add(key, 0);
    }
    void headers(const char *key, const HeaderList &list)
    {
        if (list.isEmpty())
            return;
        qsizetype total = 0;
        for (const Header &h : list)
            total += h.first.size() + h.second.size() + 11;
        add(key, total);
    }
};

// Second pass: the same walk, writing. With `split` set, a large body field is not copied: it goes
// to *split->body and the fields after it to split->tail.
struct FieldWriter {
    struct Split {
        CborWriter *tail;
        QByteArray *body;
    };

    CborWriter *w;
    Split split{nullptr, nullptr};

    void key(const char *name) { w->appendTextString(name, qsizetype(std::strlen(name))); }

    void bytes(const char *name, const QByteArray &value, Need need, Bound bound)
    {
        if (need == Need::Optional && value.isEmpty())
            return;
        key(name);
        if (split.tail && bound == Bound::Body && value.size() >= EncodedFrame::kSplitBodyBytes) {
            w->startByteString(quint64(value.size()));
            *split.body = value;
            w = std::exchange(split.tail, nullptr); // one body field per message
            return;
        }
        w->appendByteString(value.constData(), value.size());
    }
    void text(const char *name, const QString &value)
    {
        if (value.isEmpty())
            return;
        key(name);
        w->append(QStringView(value));
    }
    void boolean(const char *name, bool value, Need need)
    {
        if (need == Need::Optional && !value)
            return;
        key(name);
        w->append(value);
    }
    template <typename I> void integer(const char *name, I value, Need need, quint64, quint64, I defaultValue)
    {
        if (need == Need::Optional && value == defaultValue)
            return;
        key(name);
        w->append(toWire(value));
    }
    void headers(const char *name, const HeaderList &list)
    {
        if (list.isEmpty())
            return;
        key(name);
        w->startArray(quint64(list.size()));
        for (const Header &h : list) {
            w->startArray(2);
            w->appendByteString(h.first.constData(), h.first.size());
            w->appendByteString(h.second.constData(), h.second.size());
        }
    }
};

void writeEnvelope(CborWriter &w, const SizeCounter &counter, MessageType type, int version)
{
    w.startMap(counter.entries + 2);
    w.appendTextString("v", 1);
    w.append(quint64(version));
    w.appendTextString("t", 1);
    w.append(quint64(int(type)));
}

template <typename T> QByteArray encodeMessage(const T &message, MessageType type, int version)
{
    SizeCounter counter;
    fields(counter, message);

    QByteArray out;
    out.reserve(counter.size + 16);
    CborWriter w(out);
    writeEnvelope(w, counter, type, version);
    FieldWriter writer{&w};
    fields(writer, message);
    return out;
}

template <typename T> EncodedFrame encodeMessageParts(const T &message, MessageType type, int version)
{
    SizeCounter counter;
    fields(counter, message);

    EncodedFrame frame;
    frame.head.reserve(counter.size - counter.splitBody + 16);
    CborWriter head(frame.head);
    CborWriter tail(frame.tail);
    writeEnvelope(head, counter, type, version);
    FieldWriter writer{&head, {&tail, &frame.body}};
    fields(writer, message);
    return frame;
}

} // namespace

QByteArray encodeFrame(const Message &message, int version)
{
    return std::visit([&message, version](const auto &m) { return encodeMessage(m, messageType(message), version); },
                      message);
}

EncodedFrame encodeFrameParts(const Message &message, int version)
{
    return std::visit(
        [&message, version](const auto &m) { return encodeMessageParts(m, messageType(message), version); }, message);
}

} // namespace keyhole::protocol
