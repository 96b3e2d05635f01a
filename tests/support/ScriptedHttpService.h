#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QTcpServer>
#include <QUrl>

#include <functional>

namespace keyhole::testing {

// A local HTTP/1.1 service on 127.0.0.1 (port 0) whose every answer comes from a function: per
// request (head, then a Content-Length body) it may write bytes, close the connection after them, or
// stay silent. Counts connections, open and at most open at once, and records every request. For
// unit tests of the client side that need a service misbehaving in ways test_service.py cannot.
class ScriptedHttpService : public QObject
{
    Q_OBJECT

public:
    struct Reply {
        QByteArray bytes;
        bool close = false;  // close the connection after writing
        bool silent = false; // write nothing (slow service)
    };
    // connection: 0-based index of the TCP connection; index: request number on that connection.
    using Responder = std::function<Reply(const QByteArray &request, int connection, int index)>;

    explicit ScriptedHttpService(Responder responder, QObject *parent = nullptr);

    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port())); }

    int connections = 0;
    int open = 0;
    int maxOpen = 0;
    QList<QByteArray> requests;

private:
    QTcpServer m_server;
    Responder m_responder;
};

} // namespace keyhole::testing
