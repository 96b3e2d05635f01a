#pragma once

#include <QElapsedTimer>
#include <QSslConfiguration>
#include <QTcpServer>
#include <QTimer>

#include <optional>

class QSocketNotifier;
class QTcpSocket;

namespace keyhole::proxy {

class ConnectionBudget;

// The proxy's listening socket (plain or TLS). Every accepted socket counts against the
// ConnectionBudget from the moment it is accepted, so a TLS handshake in progress holds a slot like
// any other connection and is cut after `handshakeTimeoutMs`; over the budget a connection is closed
// at once. Out of file descriptors (EMFILE/ENFILE), QTcpServer retries accept() in a busy loop (Qt
// 6.4 takes it for a temporary error) or, in other versions, stops accepting for good; on Linux this
// listener accepts by itself instead: it logs the shortage (at most once a second), stops watching
// the listening socket, and resumes as soon as a counted socket is freed, with a timer as backstop.
// Sockets are handed over by connectionReady(); the receiver takes ownership.
class ProxyListener : public QTcpServer
{
    Q_OBJECT

public:
    ProxyListener(ConnectionBudget *budget, QObject *parent = nullptr);
    ~ProxyListener() override;

    void setTls(const QSslConfiguration &tls, int handshakeTimeoutMs);
    // Counts each connection refused for --max-connections (for /metrics); must outlive the listener.
    void setRefusalCounter(quint64 *counter) { m_refusals = counter; }
    // listen() and close() with our own accepting; false (see errorString()) when it cannot listen.
    bool start(const QHostAddress &address, quint16 port);
    void stop();

Q_SIGNALS:
    void connectionReady(QTcpSocket *socket);

protected:
    void incomingConnection(qintptr descriptor) override;

private:
    void startHandshake(QTcpSocket *socket);
    void acceptPending();
    void outOfDescriptors(const QString &reason);
    void onAcceptError(QAbstractSocket::SocketError error);
    void resume();
    bool mayLog();

    ConnectionBudget *m_budget;
    std::optional<QSslConfiguration> m_tls;
    quint64 *m_refusals = nullptr;
    int m_handshakeTimeoutMs = 10'000;
    QSocketNotifier *m_notifier = nullptr; // the listening socket, when we accept by ourselves (Linux: accept4)
    bool m_paused = false;
    QTimer m_resumeBackstop;
    QElapsedTimer m_lastLog; // warnings about refusals and exhaustion, at most one a second
    int m_unlogged = 0;
};

} // namespace keyhole::proxy
