#include "util/MetricsServer.h"

#include "util/MetricsRenderer.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QTimer>

namespace keyhole::util {

namespace {
constexpr qint64 kMaxHeadBytes = 8 * 1024;
constexpr int kTimeoutMs = 10'000;
constexpr int kMaxOpen = 16;
} // namespace

MetricsServer::MetricsServer(std::function<QByteArray()> render, QObject *parent)
    : QObject(parent)
    , m_render(std::move(render))
    , m_server(new QTcpServer(this))
{
    connect(m_server, &QTcpServer::newConnection, this, &MetricsServer::onNewConnection);
}

bool MetricsServer::listen(const QHostAddress &address, quint16 port, QString *error)
{
    if (m_server->listen(address, port))
        return true;
    *error = QStringLiteral("cannot listen for metrics on %1:%2: %3")
                 .arg(address.toString())
                 .arg(port)
                 .arg(m_server->errorString());
    return false;
}

quint16 MetricsServer::port() const
{
    return m_server->serverPort();
}

void MetricsServer::onNewConnection()
{
    while (QTcpSocket *socket = m_server->nextPendingConnection()) {
        if (m_open >= kMaxOpen) {
            socket->abort();
            socket->deleteLater();
            continue;
        }
        ++m_open;
        socket->setParent(this);
        socket->setReadBufferSize(kMaxHeadBytes + 1);
        connect(socket, &QTcpSocket::readyRead, this, [this, socket] { onReadyRead(socket); });
        connect(socket, &QTcpSocket::disconnected, socket, &QObject::deleteLater);
        connect(socket, &QObject::destroyed, this, [this] { --m_open; });
        QTimer::singleShot(kTimeoutMs, socket, [socket] {
            socket->abort();
            socket->deleteLater();
        });
    }
}

void MetricsServer::onReadyRead(QTcpSocket *socket)
{
    // The head stays in the socket's buffer until it is whole; then the request line is all we read.
    const QByteArray pending = socket->peek(kMaxHeadBytes + 1);
    const qsizetype end = pending.indexOf("\r\n\r\n");
    if (end < 0 && pending.size() <= kMaxHeadBytes)
        return;
    socket->skip(socket->bytesAvailable());
    const QByteArray requestLine = pending.left(pending.indexOf("\r\n"));
    const QList<QByteArray> parts = requestLine.split(' ');
    QByteArray status = QByteArrayLiteral("404 Not Found");
    QByteArray type = QByteArrayLiteral("text/plain; charset=utf-8");
    QByteArray body = QByteArrayLiteral("Only GET /metrics is served here.\n");
    if (end < 0) {
        status = QByteArrayLiteral("431 Request Header Fields Too Large");
        body.clear();
    } else if (parts.size() == 3 && (parts[0] == "GET" || parts[0] == "HEAD")
               && (parts[1] == "/metrics" || parts[1].startsWith("/metrics?"))) {
        status = QByteArrayLiteral("200 OK");
        type = MetricsRenderer::contentType();
        body = m_render();
    }
    const qsizetype length = body.size();
    if (parts.value(0) == "HEAD")
        body.clear();
    QByteArray answer = "HTTP/1.1 " + status + "\r\nContent-Type: " + type
        + "\r\nContent-Length: " + QByteArray::number(length) + "\r\nConnection: close\r\n\r\n";
    socket->write(answer);
    socket->write(body);
    socket->disconnectFromHost();
}

} // namespace keyhole::util
