#include "visitors/LingeringClose.h"

#include "visitors/VisitorLogging.h"

#include <QSslSocket>
#include <QTcpSocket>

#ifdef Q_OS_WIN
#include <winsock2.h>
#else
#include <sys/socket.h>
#endif

namespace keyhole::proxy {

namespace {

bool shutdownSending(qintptr descriptor)
{
    if (descriptor < 0)
        return false;
#ifdef Q_OS_WIN
    return ::shutdown(SOCKET(descriptor), SD_SEND) == 0;
#else
    return ::shutdown(int(descriptor), SHUT_WR) == 0;
#endif
}

} // namespace

LingeringClose::LingeringClose(QTcpSocket *socket, int flushTimeoutMs, int lingerMs, qint64 maxDrainBytes,
                               QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_lingerMs(lingerMs)
    , m_drainBudget(maxDrainBytes)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &LingeringClose::finish);
    connect(socket, &QTcpSocket::readyRead, this, &LingeringClose::discardInput);
    connect(socket, &QTcpSocket::disconnected, this, &LingeringClose::finish);
    m_timer.start(flushTimeoutMs);
    if (qobject_cast<QSslSocket *>(socket)) {
        // TLS: QSslSocket can hold encrypted output that neither bytesToWrite() nor
        // encryptedBytesToWrite() counts (seen with Qt 6.4: a FIN sent that way went out before the
        // answer). So no half-close here: Qt's own close sends close_notify and FIN after the answer,
        // and a visitor still sending then may get a reset. finished() comes once it is closed.
        socket->disconnectFromHost();
        return;
    }
    connect(socket, &QTcpSocket::bytesWritten, this, &LingeringClose::tryHalfClose);
    // Qt writes on its next event-loop turn; flush now so an answer already queued goes out at once.
    socket->flush();
    tryHalfClose();
    discardInput();
}

void LingeringClose::tryHalfClose()
{
    if (m_halfClosed || m_finished)
        return;
    if (m_socket->state() != QAbstractSocket::ConnectedState) {
        finish();
        return;
    }
    if (m_socket->bytesToWrite() > 0)
        return;
    if (!shutdownSending(m_socket->socketDescriptor())) {
        qCDebug(lcProxyHttp) << "cannot half-close the visitor connection; closing it";
        finish();
        return;
    }
    m_halfClosed = true;
    m_timer.start(m_lingerMs);
}

void LingeringClose::discardInput()
{
    if (m_finished)
        return;
    char scratch[16 * 1024];
    while (m_socket->bytesAvailable() > 0) {
        const qint64 n = m_socket->read(scratch, sizeof scratch);
        if (n <= 0)
            break;
        m_drainBudget -= n;
        if (m_drainBudget < 0) {
            finish();
            return;
        }
    }
}

void LingeringClose::finish()
{
    if (m_finished)
        return;
    m_finished = true;
    m_timer.stop();
    emit finished();
}

} // namespace keyhole::proxy
