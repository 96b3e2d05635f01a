#pragma once

#include <QHash>
#include <QObject>
#include <QPointer>

class QTcpSocket;
class QWebSocket;
class QWebSocketServer;

namespace keyhole::proxy {

class VisitorWebSocket;

// Completes visitors' WebSocket handshakes once the local service has accepted: QWebSocketServer
// (never listening itself) answers 101 with the subprotocol the service chose. One server per
// subprotocol, since a server offers the same list to everyone.
class WebSocketAcceptor : public QObject
{
    Q_OBJECT

public:
    explicit WebSocketAcceptor(QObject *parent = nullptr);

    // `socket` holds the visitor's handshake request, unread; `afterHandshake` is what the visitor
    // sent behind it, given to the QWebSocket once `target` listens to it.
    void accept(QTcpSocket *socket, const QByteArray &afterHandshake, const QString &subprotocol,
                VisitorWebSocket *target);

private:
    QWebSocketServer *serverFor(const QString &subprotocol);
    void onNewConnection(QWebSocketServer *server);

    struct Awaiting {
        QPointer<VisitorWebSocket> target;
        QPointer<QTcpSocket> socket;
        QByteArray afterHandshake;
    };
    QHash<QString, QWebSocketServer *> m_servers;
    QHash<QString, Awaiting> m_awaiting; // "address|port" of the visitor → who gets the socket
};

} // namespace keyhole::proxy
