#include "ScriptedHttpService.h"

#include <QTcpSocket>
#include <QTest>

#include <memory>

namespace keyhole::testing {

namespace {
// Moves the first complete request (head and Content-Length body) out of `buffer`; false if none yet.
bool takeRequest(QByteArray &buffer, QByteArray *request)
{
    const qsizetype headEnd = buffer.indexOf("\r\n\r\n");
    if (headEnd < 0)
        return false;
    qsizetype length = 0;
    const QList<QByteArray> lines = buffer.left(headEnd).split('\n');
    for (const QByteArray &line : lines) {
        if (line.toLower().startsWith("content-length:"))
            length = line.mid(15).trimmed().toLongLong();
    }
    const qsizetype total = headEnd + 4 + length;
    if (buffer.size() < total)
        return false;
    *request = buffer.left(total);
    buffer.remove(0, total);
    return true;
}
} // namespace

ScriptedHttpService::ScriptedHttpService(Responder responder, QObject *parent)
    : QObject(parent)
    , m_responder(std::move(responder))
{
    QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
    connect(&m_server, &QTcpServer::newConnection, this, [this] {
        while (QTcpSocket *socket = m_server.nextPendingConnection()) {
            const int connection = connections++;
            ++open;
            maxOpen = qMax(maxOpen, open);
            auto buffer = std::make_shared<QByteArray>();
            auto index = std::make_shared<int>(0);
            connect(socket, &QTcpSocket::disconnected, this, [this, socket] {
                --open;
                socket->deleteLater();
            });
            connect(socket, &QTcpSocket::readyRead, this, [this, socket, buffer, index, connection] {
                buffer->append(socket->readAll());
                QByteArray request;
                while (takeRequest(*buffer, &request)) {
                    requests.append(request);
                    const Reply reply = m_responder(request, connection, (*index)++);
                    if (reply.silent)
                        continue;
                    socket->write(reply.bytes);
                    if (reply.close) {
                        socket->disconnectFromHost();
                        return;
                    }
                }
            });
        }
    });
}

} // namespace keyhole::testing
