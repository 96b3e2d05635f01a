#include "CannedHttpService.h"

#include <QTcpSocket>

namespace keyhole::testing {

namespace {
// Bytes of the first complete request in `buffer` (head and Content-Length body), 0 if incomplete.
qsizetype completeRequestBytes(const QByteArray &buffer)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return 0;
    const QByteArray head = buffer.left(headEnd).toLower();
    qsizetype length = 0;
    const qsizetype at = head.indexOf("\r\ncontent-length:");
    if (at >= 0) {
        const qsizetype valueStart = at + qsizetype(qstrlen("\r\ncontent-length:"));
        const qsizetype lineEnd = head.indexOf("\r\n", valueStart);
        length = head.mid(valueStart, lineEnd < 0 ? -1 : lineEnd - valueStart).trimmed().toLongLong();
    }
    const qsizetype total = headEnd + 4 + length;
    return buffer.size() >= total ? total : 0;
}
} // namespace

CannedHttpService::CannedHttpService(QByteArray response, QObject *parent, quint16 port)
    : QObject(parent)
    , m_response(std::move(response))
{
    connect(&m_server, &QTcpServer::newConnection, this, &CannedHttpService::onNewConnection);
    m_server.listen(QHostAddress::LocalHost, port);
}

QUrl CannedHttpService::url() const
{
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port()));
}

void CannedHttpService::onNewConnection()
{
    while (QTcpSocket *socket = m_server.nextPendingConnection()) {
        auto *buffer = new QByteArray;
        connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer] {
            buffer->append(socket->readAll());
            while (const qsizetype n = completeRequestBytes(*buffer)) {
                m_received += buffer->left(n);
                buffer->remove(0, n);
                ++m_requests;
                socket->write(m_response);
            }
        });
        connect(socket, &QTcpSocket::disconnected, socket, [socket, buffer] {
            delete buffer;
            socket->deleteLater();
        });
    }
}

} // namespace keyhole::testing
