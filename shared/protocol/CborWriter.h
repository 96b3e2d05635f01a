#pragma once

#include <QByteArray>
#include <QStringView>

namespace keyhole::protocol {

// Appends definite-length CBOR (RFC 8949) to a QByteArray: the subset our frames use (maps, arrays,
// unsigned integers, booleans, byte and text strings), each head in its shortest form. It replaces
// QCborStreamWriter on the hot path, which writes through a QBuffer/QIODevice per item and cost
// about a tenth of the proxy's and the client's CPU per request.
class CborWriter
{
public:
    explicit CborWriter(QByteArray &out)
        : m_out(out)
    {
    }

    void startMap(quint64 entries) { head(5, entries); }
    void startArray(quint64 items) { head(4, items); }
    void append(quint64 value) { head(0, value); }
    void append(bool value) { m_out.append(char(value ? 0xf5 : 0xf4)); }
    void appendByteString(const char *data, qsizetype size);
    // Only the head of a byte string: its `size` bytes follow elsewhere (a frame written in parts).
    void startByteString(quint64 size) { head(2, size); }
    void appendTextString(const char *utf8, qsizetype size);
    void append(QStringView text);

private:
    void head(quint8 major, quint64 value);

    QByteArray &m_out;
};

} // namespace keyhole::protocol
