#include "PacedVisitor.h"

#include "StreamSupport.h"

#include <QHostAddress>

namespace keyhole::testing {

namespace {
// Small enough that a slow reader leaves the bulk in the kernel; large enough for a fast one.
constexpr qint64 ReadBufferBytes = 64 * 1024;
constexpr int PaceTickMs = 5;
} // namespace

PacedVisitor::PacedVisitor(qint64 bytesPerSecond, QObject *parent)
    : QObject(parent)
    , m_rate(bytesPerSecond)
{
    m_socket.setReadBufferSize(ReadBufferBytes);
    m_pace.setTimerType(Qt::PreciseTimer);
    m_pace.setInterval(PaceTickMs);
    connect(&m_pace, &QTimer::timeout, this, &PacedVisitor::readAvailable);
    connect(&m_socket, &QTcpSocket::readyRead, this, [this] {
        if (m_rate == 0)
            readAvailable();
    });
    connect(&m_socket, &QTcpSocket::disconnected, this, [this] {
        readAvailable();
        m_closed = true;
        m_pace.stop();
        Q_EMIT closed();
    });
    connect(&m_socket, &QTcpSocket::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        if (error != QAbstractSocket::RemoteHostClosedError && !m_closed) {
            m_closed = true;
            m_pace.stop();
            Q_EMIT closed();
        }
    });
}

PacedVisitor::~PacedVisitor()
{
    m_socket.abort();
}

void PacedVisitor::start(quint16 port, const QByteArray &request)
{
    m_socket.connectToHost(QHostAddress::LocalHost, port);
    m_socket.write(request);
    m_clock.start();
    if (m_rate > 0)
        m_pace.start();
}

void PacedVisitor::abort()
{
    m_pace.stop();
    m_socket.abort();
    m_closed = true;
}

void PacedVisitor::readAvailable()
{
    qint64 allowed = m_socket.bytesAvailable();
    if (m_rate > 0)
        allowed = qMin(allowed, m_rate * m_clock.nsecsElapsed() / 1000000000 - m_consumed);
    if (allowed <= 0)
        return;
    const QByteArray data = m_socket.read(allowed);
    m_consumed += data.size();
    consume(data);
}

void PacedVisitor::consume(const QByteArray &data)
{
    QByteArray bodyPart = data;
    if (m_head.isEmpty()) {
        m_pending += data;
        const qsizetype end = m_pending.indexOf("\r\n\r\n");
        if (end < 0)
            return;
        m_head = m_pending.left(end + 4);
        bodyPart = m_pending.mid(end + 4);
        m_pending.clear();
    }
    if (bodyPart.isEmpty())
        return;
    m_bodyBytes += bodyPart.size();
    if (m_body.size() < m_keepBytes)
        m_body += bodyPart.left(m_keepBytes - m_body.size());
    m_reads.append({monotonicNs(), m_bodyBytes});
}

int PacedVisitor::status() const
{
    return m_head.isEmpty() ? 0 : m_head.split(' ').value(1).toInt();
}

QByteArray PacedVisitor::header(const QByteArray &name) const
{
    for (const QByteArray &line : m_head.split('\n')) {
        const qsizetype colon = line.indexOf(':');
        if (colon > 0 && line.left(colon).trimmed().compare(name, Qt::CaseInsensitive) == 0)
            return line.mid(colon + 1).trimmed();
    }
    return {};
}

qint64 PacedVisitor::arrivalNs(qint64 bodyOffset) const
{
    for (const auto &read : m_reads) {
        if (read.second >= bodyOffset)
            return read.first;
    }
    return -1;
}

} // namespace keyhole::testing
