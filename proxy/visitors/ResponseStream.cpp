#include "visitors/ResponseStream.h"

#include "protocol/Messages.h"

namespace keyhole::proxy {

namespace {
// Credit goes back in batches: one HttpCredit per this many bytes taken, or when all are taken.
constexpr qint64 kCreditBatchBytes = 64 * 1024;
} // namespace

ResponseStream::Framing ResponseStream::framingFor(qint64 contentLength, bool http10)
{
    if (contentLength >= 0)
        return Framing::Length;
    return http10 ? Framing::UntilClose : Framing::Chunked;
}

qint64 ResponseStream::announcedLength(const QByteArray &value)
{
    if (value.isEmpty() || value.size() > 18)
        return -1;
    for (char c : value) {
        if (c < '0' || c > '9')
            return -1;
    }
    return value.toLongLong();
}

void ResponseStream::begin(Framing framing, qint64 contentLength)
{
    reset();
    m_framing = framing;
    m_length = framing == Framing::Length ? contentLength : -1;
    m_active = true;
}

void ResponseStream::reset()
{
    m_framing = Framing::Chunked;
    m_length = -1;
    m_total = 0;
    m_uncredited = 0;
    m_active = false;
}

bool ResponseStream::receive(qint64 bytes, QString *why)
{
    if (m_uncredited + bytes > protocol::kStreamWindowBytes) {
        *why = QStringLiteral("The tunnel's client sent more than the stream window.");
        return false;
    }
    if (m_length >= 0 && m_total + bytes > m_length) {
        *why = QStringLiteral("The local service sent more than its Content-Length.");
        return false;
    }
    m_uncredited += bytes;
    m_total += bytes;
    return true;
}

QByteArray ResponseStream::frame(const QByteArray &data) const
{
    if (m_framing != Framing::Chunked || data.isEmpty())
        return data;
    return QByteArray::number(data.size(), 16) + "\r\n" + data + "\r\n";
}

QByteArray ResponseStream::finish(bool *complete)
{
    *complete = m_length < 0 || m_total == m_length;
    m_active = false;
    return m_framing == Framing::Chunked && *complete ? QByteArrayLiteral("0\r\n\r\n") : QByteArray();
}

qint64 ResponseStream::creditDue(qint64 unsent)
{
    const qint64 passed = m_uncredited - qMin(m_uncredited, qMax<qint64>(0, unsent));
    if (passed <= 0 || (passed < kCreditBatchBytes && unsent > 0))
        return 0;
    m_uncredited -= passed;
    return passed;
}

} // namespace keyhole::proxy
