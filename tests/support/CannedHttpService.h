#pragma once

#include <QByteArray>
#include <QObject>
#include <QTcpServer>
#include <QUrl>

namespace keyhole::testing {

// A local HTTP service on 127.0.0.1 (a free port) that answers every complete request (head, then a
// Content-Length body) with the same bytes, and records what arrived. For unit tests of the client
// side that need a service behind the tunnel but not test_service.py.
class CannedHttpService : public QObject
{
    Q_OBJECT

public:
    // `port` 0 picks a free one; a given port is for a service that comes up where one was missing.
    explicit CannedHttpService(QByteArray response, QObject *parent = nullptr, quint16 port = 0);

    bool isListening() const { return m_server.isListening(); }
    quint16 port() const { return m_server.serverPort(); }
    QUrl url() const;

    QByteArray received() const { return m_received; } // every complete request, in arrival order
    int requests() const { return m_requests; }

private:
    void onNewConnection();

    QTcpServer m_server;
    QByteArray m_response;
    QByteArray m_received;
    int m_requests = 0;
};

} // namespace keyhole::testing
