#include "visitors/UploadWindow.h"

#include "protocol/Messages.h"

namespace keyhole::proxy {

void UploadWindow::reset()
{
    m_held.clear();
    m_inFlight = 0;
    m_total = 0;
}

qint64 UploadWindow::room() const
{
    return qMax<qint64>(0, protocol::kStreamWindowBytes - m_inFlight - m_held.size());
}

void UploadWindow::take(const QByteArray &bytes, bool forward)
{
    m_total += bytes.size();
    if (forward)
        m_held.append(bytes);
}

QByteArray UploadWindow::takeFirst()
{
    const qsizetype size = qsizetype(qMin<qint64>(m_held.size(), protocol::kInlineBodyBytes));
    QByteArray first = size == m_held.size() ? std::exchange(m_held, QByteArray()) : m_held.left(size);
    if (!m_held.isEmpty())
        m_held.remove(0, size);
    m_inFlight += first.size();
    return first;
}

QByteArray UploadWindow::next()
{
    const qint64 allowed = qMin<qint64>(protocol::kBodyChunkBytes, protocol::kStreamWindowBytes - m_inFlight);
    const qsizetype size = qsizetype(qMin<qint64>(m_held.size(), allowed));
    if (size <= 0)
        return {};
    QByteArray data = size == m_held.size() ? std::exchange(m_held, QByteArray()) : m_held.left(size);
    if (!m_held.isEmpty())
        m_held.remove(0, size);
    m_inFlight += data.size();
    return data;
}

void UploadWindow::credited(qint64 bytes)
{
    // More than was sent is a client's mistake; it must not open the window past its size.
    m_inFlight = qMax<qint64>(0, m_inFlight - qMax<qint64>(0, bytes));
}

} // namespace keyhole::proxy
