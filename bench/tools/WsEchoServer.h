#pragma once

#include <QObject>
#include <QHostAddress>

class QTcpServer;
class QWebSocketServer;

// The WebSocket backend of the benchmark: echoes every message (text as text, binary as binary)
// on any path. Sockets are accepted by our own QTcpServer so TCP_NODELAY can be set before
// QWebSocketServer takes them over; otherwise Nagle would distort round-trip figures.
class WsEchoServer : public QObject
{
    Q_OBJECT

public:
    explicit WsEchoServer(QObject *parent = nullptr);

    bool listen(const QHostAddress &address, quint16 port);
    quint16 port() const;
    QString errorString() const;

private:
    void onNewTcpConnection();
    void onNewWebSocket();

    QTcpServer *m_tcp;
    QWebSocketServer *m_ws;
};
