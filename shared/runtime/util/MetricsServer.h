#pragma once

#include <QByteArray>
#include <QHostAddress>
#include <QObject>

#include <functional>

class QTcpServer;
class QTcpSocket;

namespace keyhole::util {

// --metrics-listen: a plain-HTTP listener of its own that answers GET /metrics with what `render`
// returns (rendered per scrape), 404 to any other path, and closes each connection after one
// answer. Meant for a scraper on a private address: it reads one request head of at most 8 KiB,
// gives each connection 10 seconds and holds at most 16 at once.
class MetricsServer : public QObject
{
    Q_OBJECT

public:
    MetricsServer(std::function<QByteArray()> render, QObject *parent = nullptr);

    bool listen(const QHostAddress &address, quint16 port, QString *error);
    quint16 port() const;

private:
    void onNewConnection();
    void onReadyRead(QTcpSocket *socket);

    std::function<QByteArray()> m_render;
    QTcpServer *m_server;
    int m_open = 0;
};

} // namespace keyhole::util
