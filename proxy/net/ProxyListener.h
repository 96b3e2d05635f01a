#pragma once

#include <QElapsedTimer>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTimer>

#include <optional>

class QTcpSocket;

namespace keyhole::proxy {

class ConnectionBudget;

// The proxy's listening socket (plain or TLS). Every accepted socket counts against the
// ConnectionBudget from the moment it is accepted, so a TLS handshake in progress holds a slot like
// any other connection and is cut after `handshakeTimeoutMs`; over the budget a connection is closed
// at once. Running out of file descriptors (EMFILE/ENFILE) makes QTcpServer stop accepting for good:
// this listener resumes as soon as a counted socket is freed, with a timer as backstop.
// Sockets are handed over by connectionReady(); the receiver takes ownership.
class ProxyListener : public QTcpServer
{
    Q_OBJECT

public:
    ProxyListener(ConnectionBudget *budget, QObject *parent = nullptr);

    void setTls(const QSslConfiguration &tls, int handshakeTimeoutMs);

Q_SIGNALS:
    void connectionReady(QTcpSocket *socket);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void startHandshake(QTcpSocket *socket);
    void onAcceptError(QAbstractSocket::SocketError error);
    void resume();
    bool mayLog();

    ConnectionBudget *m_budget;
    std::optional<QSslConfiguration> m_tls;
    int m_handshakeTimeoutMs = 10'000;
    bool m_paused = false;
    QTimer m_resumeBackstop;
    QElapsedTimer m_lastLog; // warnings about refusals and exhaustion, at most one a second
    int m_unlogged = 0;
};

} // namespace keyhole::proxy
