#include "protocol/CborWriter.h"

namespace keyhole::protocol {

void CborWriter::head(quint8 major, quint64 value)
{
    const char type = char(major << 5);
    if (value < 24) {
        m_out.append(char(type | char(value)));
        return;
    }
    int bytes;
    char info;
    if (value <= 0xff) {
        bytes = 1;
        info = 24;
    } else if (value <= 0xffff) {
        bytes = 2;
        info = 25;
    } else if (value <= 0xffffffffULL) {
        bytes = 4;
        info = 26;
    } else {
        bytes = 8;
        info = 27;
    }
    char buffer[9];
    buffer[0] = char(type | info);
    for (int i = 0; i < bytes; ++i)
        buffer[1 + i] = char(value >> (8 * (bytes - 1 - i)));
    m_out.append(buffer, 1 + bytes);
}

void CborWriter::appendByteString(const char *data, qsizetype size)
{
    head(2, quint64(size));
    m_out.append(data, size);
}

void CborWriter::appendTextString(const char *utf8, qsizetype size)
{
    head(3, quint64(size));
    m_out.append(utf8, size);
}

void CborWriter::append(QStringView text)
{
    const QByteArray utf8 = text.toUtf8();
    appendTextString(utf8.constData(), utf8.size());
}

} // namespace keyhole::protocol
