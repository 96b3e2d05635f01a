#include "WsEchoServer.h"

#include <QTcpServer>
#include <QTcpSocket>
#include <QWebSocket>
#include <QWebSocketServer>

WsEchoServer::WsEchoServer(QObject *parent)
    : QObject(parent)
    , m_tcp(new QTcpServer(this))
    , m_ws(new QWebSocketServer(QStringLiteral("keyhole-bench-ws"), QWebSocketServer::NonSecureMode, this))
{
    m_tcp->setMaxPendingConnections(1000);
    connect(m_tcp, &QTcpServer::newConnection, this, &WsEchoServer::onNewTcpConnection);
    connect(m_ws, &QWebSocketServer::newConnection, this, &WsEchoServer::onNewWebSocket);
}

bool WsEchoServer::listen(const QHostAddress &address, quint16 port)
{
    return m_tcp->listen(address, port);
}

quint16 WsEchoServer::port() const
{
    return m_tcp->serverPort();
}

QString WsEchoServer::errorString() const
{
    return m_tcp->errorString();
}

void WsEchoServer::onNewTcpConnection()
{
    while (QTcpSocket *socket = m_tcp->nextPendingConnection()) {
        socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
        m_ws->handleConnection(socket);
    }
}

void WsEchoServer::onNewWebSocket()
{
    while (QWebSocket *socket = m_ws->nextPendingConnection()) {
        socket->setParent(this);
        socket->setMaxAllowedIncomingMessageSize(64 * 1024 * 1024);
        connect(socket, &QWebSocket::binaryMessageReceived, socket,
                [socket](const QByteArray &message) { socket->sendBinaryMessage(message); });
        connect(socket, &QWebSocket::textMessageReceived, socket,
                [socket](const QString &message) { socket->sendTextMessage(message); });
        connect(socket, &QWebSocket::disconnected, socket, &QObject::deleteLater);
    }
}
