#include "net/ProxyListener.h"

#include "bus/ConnectionBudget.h"
#include "ProxyLogging.h"

#include <QSocketNotifier>
#include <QSslSocket>

#ifdef Q_OS_LINUX
#include <sys/socket.h>

#include <cerrno>
#include <cstring>
#endif

namespace keyhole::proxy {

namespace {
constexpr int kResumeBackstopMs = 200; // for descriptors freed by something we do not count
constexpr qint64 kLogIntervalMs = 1000;
constexpr int kAcceptBatch = 64; // then let the event loop serve the connections we have
} // namespace

ProxyListener::ProxyListener(ConnectionBudget *budget, QObject *parent)
    : QTcpServer(parent)
    , m_budget(budget)
{
    m_resumeBackstop.setSingleShot(true);
    m_resumeBackstop.setInterval(kResumeBackstopMs);
    connect(&m_resumeBackstop, &QTimer::timeout, this, &ProxyListener::resume);
    connect(m_budget, &ConnectionBudget::released, this, &ProxyListener::resume);
    connect(this, &QTcpServer::acceptError, this, &ProxyListener::onAcceptError);
}

ProxyListener::~ProxyListener()
{
    delete m_notifier; // before QTcpServer closes its descriptor
}

void ProxyListener::setTls(const QSslConfiguration &tls, int handshakeTimeoutMs)
{
    m_tls = tls;
    m_handshakeTimeoutMs = handshakeTimeoutMs;
}

bool ProxyListener::start(const QHostAddress &address, quint16 port)
{
    if (!listen(address, port))
        return false;
#ifdef Q_OS_LINUX
    pauseAccepting(); // for good: QTcpServer's notifier stays off, ours takes over
    m_notifier = new QSocketNotifier(socketDescriptor(), QSocketNotifier::Read, this);
    connect(m_notifier, &QSocketNotifier::activated, this, &ProxyListener::acceptPending);
#endif
    return true;
}

void ProxyListener::stop()
{
    delete m_notifier; // before its descriptor is closed
    m_notifier = nullptr;
    m_resumeBackstop.stop();
    close();
}

void ProxyListener::acceptPending()
{
#ifdef Q_OS_LINUX
    for (int i = 0; i < kAcceptBatch; ++i) {
        const int descriptor = ::accept4(int(socketDescriptor()), nullptr, nullptr, SOCK_CLOEXEC | SOCK_NONBLOCK);
        if (descriptor >= 0) {
            incomingConnection(descriptor);
            continue;
        }
        const int error = errno;
        switch (error) {
        case EINTR:
        case ECONNABORTED: // the peer left while waiting in the backlog
            continue;
        case EAGAIN:
#if EWOULDBLOCK != EAGAIN
        case EWOULDBLOCK:
#endif
            return;
        default: // EMFILE, ENFILE, ENOBUFS, ENOMEM; anything else would fail again at once just the same
            outOfDescriptors(QString::fromLocal8Bit(std::strerror(error)));
            return;
        }
    }
#endif
}

bool ProxyListener::mayLog()
{
    if (m_lastLog.isValid() && m_lastLog.elapsed() < kLogIntervalMs) {
        ++m_unlogged;
        return false;
    }
    m_lastLog.start();
    return true;
}

void ProxyListener::incomingConnection(qintptr descriptor)
{
    QTcpSocket *socket = m_tls ? new QSslSocket(this) : new QTcpSocket(this);
    if (!socket->setSocketDescriptor(descriptor)) {
        qCWarning(lcProxy) << "cannot take an accepted socket:" << socket->errorString();
        delete socket;
        return;
    }
    if (!m_budget->admit(socket)) {
        if (m_refusals)
            ++*m_refusals;
        if (mayLog()) {
            qCWarning(lcProxy).nospace().noquote()
                << "refusing a connection from " << socket->peerAddress().toString() << ": " << m_budget->used()
                << " sockets open (--max-connections)"
                << (m_unlogged > 0 ? QStringLiteral(", %1 more refused").arg(m_unlogged) : QString());
            m_unlogged = 0;
        }
        socket->abort();
        delete socket;
        return;
    }
    if (m_tls)
        startHandshake(socket);
    else
        Q_EMIT connectionReady(socket);
}

void ProxyListener::startHandshake(QTcpSocket *plain)
{
    auto *socket = static_cast<QSslSocket *>(plain);
    socket->setSslConfiguration(*m_tls);
    connect(socket, &QSslSocket::encrypted, this, [this, socket] {
        disconnect(socket, nullptr, this, nullptr);
        Q_EMIT connectionReady(socket);
    });
    connect(socket, &QAbstractSocket::errorOccurred, this, [this, socket] {
        qCDebug(lcProxy) << "TLS handshake with" << socket->peerAddress().toString()
                         << "failed:" << socket->errorString();
        disconnect(socket, nullptr, this, nullptr);
        socket->abort();
        socket->deleteLater();
    });
    // A peer that never finishes its handshake holds a descriptor and a slot: not for long.
    QTimer::singleShot(m_handshakeTimeoutMs, socket, [socket] {
        if (socket->isEncrypted() || socket->state() == QAbstractSocket::UnconnectedState)
            return;
        qCDebug(lcProxy) << "TLS handshake with" << socket->peerAddress().toString() << "timed out";
        socket->abort();
        socket->deleteLater();
    });
    socket->startServerEncryption();
}

void ProxyListener::onAcceptError(QAbstractSocket::SocketError)
{
    // Where QTcpServer accepts (not POSIX), it has paused accepting: the same remedy.
    outOfDescriptors(errorString());
}

void ProxyListener::outOfDescriptors(const QString &reason)
{
    // Out of descriptors is the usual cause; they come back as sockets close. Until then the pending
    // connections wait in the kernel's backlog.
    m_paused = true;
    if (m_notifier)
        m_notifier->setEnabled(false);
    if (mayLog()) {
        qCWarning(lcProxy).nospace().noquote()
            << "cannot accept connections: " << reason << "; " << m_budget->used()
            << " sockets open; accepting again once one closes"
            << (m_unlogged > 0 ? QStringLiteral(" (%1 more warnings)").arg(m_unlogged) : QString());
        m_unlogged = 0;
    }
    m_resumeBackstop.start();
}

void ProxyListener::resume()
{
    if (!m_paused || !isListening())
        return;
    m_paused = false;
    m_resumeBackstop.stop();
    if (m_notifier)
        m_notifier->setEnabled(true);
    else
        resumeAccepting();
}

} // namespace keyhole::proxy
