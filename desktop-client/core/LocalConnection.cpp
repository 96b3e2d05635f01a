#include "LocalConnection.h"

#include "ClientLogging.h"

#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

namespace keyhole::client {

namespace {

http::HttpParser::Limits responseLimits(qint64 maxBodyBytes)
{
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = 64 * 1024;
    limits.maxHeaders = 256; // what one protocol message may carry
    limits.maxBodyBytes = maxBodyBytes;
    return limits;
}

} // namespace

LocalConnection::LocalConnection(const QUrl &target, const QList<QSslCertificate> &extraCaCertificates,
                                 QObject *parent)
    : QObject(parent)
    , m_target(target)
    , m_tls(target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0)
{
    connect(&m_timer, &util::LazyDeadline::expired, this, &LocalConnection::onTimer);

    if (m_tls) {
        auto *ssl = new QSslSocket(this);
        if (!extraCaCertificates.isEmpty()) {
            QSslConfiguration config = ssl->sslConfiguration();
            config.addCaCertificates(extraCaCertificates);
            ssl->setSslConfiguration(config);
        }
        connect(ssl, &QSslSocket::encrypted, this, &LocalConnection::onConnected);
        m_socket = ssl;
    } else {
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, &LocalConnection::onConnected);
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(m_socket, &QTcpSocket::readyRead, this, &LocalConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &LocalConnection::onBytesWritten);
    connect(m_socket, &QTcpSocket::disconnected, this, &LocalConnection::onSocketGone);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &LocalConnection::onSocketGone);
}

LocalConnection::~LocalConnection()
{
    // No signals from a half-destroyed object.
    if (m_socket)
        m_socket->disconnect(this);
}

void LocalConnection::start(const QByteArray &request, bool expectNoBody, qint64 maxBodyBytes, int timeoutMs)
{
    Q_ASSERT(m_state == State::Idle);
    m_state = State::Busy;
    clearInput();
    m_responseBytes = 0;
    m_requestWritten = false;
    m_expectNoBody = expectNoBody;
    m_maxBodyBytes = maxBodyBytes;
    m_parser = std::make_unique<http::HttpParser>(http::HttpParser::Mode::Response, responseLimits(maxBodyBytes));
    m_parser->setExpectNoBody(expectNoBody);
    m_timer.start(qMax(1, timeoutMs));

    if (m_connected) {
        m_socket->write(request);
        return;
    }
    m_pendingWrite = request;
    const QString host = m_target.host();
    const auto port = static_cast<quint16>(m_target.port(m_tls ? 443 : 80));
    if (m_tls)
        static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(host, port);
    else
        m_socket->connectToHost(host, port);
}

void LocalConnection::abandon()
{
    m_state = State::Dead;
    m_timer.stop();
    killSocket();
}

void LocalConnection::onConnected()
{
    m_connected = true;
    if (!m_pendingWrite.isEmpty()) {
        m_socket->write(m_pendingWrite);
        m_pendingWrite.clear();
    }
}

void LocalConnection::onBytesWritten()
{
    if (m_state == State::Busy)
        m_requestWritten = true;
}

void LocalConnection::onReadyRead()
{
    const QByteArray data = m_socket->readAll();
    if (data.isEmpty())
        return;
    if (m_state != State::Busy) {
        // Bytes nobody asked for: the connection is out of step, so do not reuse it.
        const bool wasIdle = m_state == State::Idle;
        m_state = State::Dead;
        m_timer.stop();
        killSocket();
        if (wasIdle)
            Q_EMIT closed();
        return;
    }
    m_responseBytes += data.size();
    appendInput(data);
    parseBuffered();
}

// The parser stops after the head, so a read that holds head and body is fed in two steps: a
// position into the buffer avoids remove()'s copy of the body (100 KiB per response at 100 KiB).
void LocalConnection::appendInput(const QByteArray &data)
{
    if (m_bufferPos > 0) {
        m_buffer.remove(0, m_bufferPos); // a partial message left over: usually a few bytes
        m_bufferPos = 0;
    }
    m_buffer.append(data); // shares `data` when the buffer is empty
}

void LocalConnection::clearInput()
{
    m_buffer.clear();
    m_bufferPos = 0;
}

bool LocalConnection::parseBuffered()
{
    for (;;) {
        qsizetype consumed = 0;
        const auto status = m_parser->feed(m_buffer.constData() + m_bufferPos, m_buffer.size() - m_bufferPos,
                                           &consumed);
        m_bufferPos += qBound<qsizetype>(0, consumed, m_buffer.size() - m_bufferPos);
        if (m_bufferPos == m_buffer.size())
            clearInput();
        switch (status) {
        case http::HttpParser::Status::NeedMore:
            return false;
        case http::HttpParser::Status::HeadComplete: {
            const qint64 length = m_parser->responseHead().contentLength;
            if (!m_expectNoBody && length > m_maxBodyBytes) {
                fail(Failure::TooLarge, QStringLiteral("the response body of %1 bytes is over the limit").arg(length));
                return true;
            }
            continue; // feed the rest (possibly nothing) so a body-less message completes
        }
        case http::HttpParser::Status::MessageComplete: {
            const int code = m_parser->responseHead().status;
            if (code >= 100 && code < 200 && code != 101) {
                // An interim response (100 Continue, 103 Early Hints): the real one follows.
                m_parser->reset();
                m_parser->setExpectNoBody(m_expectNoBody);
                continue;
            }
            Outcome outcome;
            outcome.head = m_parser->responseHead();
            outcome.body = m_parser->takeBody();
            const bool keepAlive = outcome.head.keepAlive && code != 101 && m_buffer.isEmpty();
            finishExchange(std::move(outcome), keepAlive);
            return true;
        }
        case http::HttpParser::Status::Error:
            if (m_parser->error() == http::HttpParser::Error::BodyTooLarge)
                fail(Failure::TooLarge, m_parser->errorText());
            else
                fail(Failure::Malformed, m_parser->errorText());
            return true;
        }
        return false;
    }
}

void LocalConnection::onSocketGone()
{
    if (m_state == State::Dead)
        return;
    if (m_state == State::Idle) {
        m_state = State::Dead;
        m_timer.stop();
        killSocket();
        Q_EMIT closed();
        return;
    }

    // Busy. Take what is still buffered in the socket first: it may complete the response.
    if (m_socket->bytesAvailable() > 0) {
        const QByteArray data = m_socket->readAll();
        m_responseBytes += data.size();
        appendInput(data);
        if (parseBuffered())
            return;
    }
    if (m_responseBytes > 0) {
        // A body that runs to EOF ends here; anything else is truncated.
        const auto status = m_parser->finish();
        if (status == http::HttpParser::Status::MessageComplete) {
            Outcome outcome;
            outcome.head = m_parser->responseHead();
            outcome.body = m_parser->takeBody();
            finishExchange(std::move(outcome), false);
            return;
        }
        if (status == http::HttpParser::Status::Error && m_parser->error() == http::HttpParser::Error::BodyTooLarge) {
            fail(Failure::TooLarge, m_parser->errorText());
            return;
        }
        fail(Failure::ClosedEarly, QStringLiteral("the connection closed in the middle of the response"));
        return;
    }
    const QString text = m_socket->errorString();
    if (!m_connected) {
        fail(m_socket->error() == QAbstractSocket::ConnectionRefusedError ? Failure::Refused : Failure::ConnectFailed,
             text);
    } else if (m_served > 0) {
        fail(Failure::StaleClosed, QStringLiteral("the kept-alive connection was closed by the service"));
    } else {
        fail(Failure::ClosedEarly, QStringLiteral("the connection closed before the response"));
    }
}

void LocalConnection::onTimer()
{
    if (m_state == State::Busy) {
        fail(Failure::Timeout, QStringLiteral("no complete response in time"));
    } else if (m_state == State::Idle) {
        m_state = State::Dead;
        killSocket();
        Q_EMIT closed();
    }
}

void LocalConnection::finishExchange(Outcome outcome, bool keepAlive)
{
    ++m_served;
    m_parser.reset();
    clearInput();
    if (keepAlive && m_socket->state() == QAbstractSocket::ConnectedState) {
        m_state = State::Idle;
        m_timer.start(kIdleTimeoutMs);
    } else {
        m_state = State::Dead;
        m_timer.stop();
        killSocket();
    }
    // Last: the receiver may start the next exchange or delete us (later) from here.
    Q_EMIT finished(outcome);
}

void LocalConnection::fail(Failure failure, const QString &text)
{
    qCDebug(lcForwarder, "local connection failed: %s", qPrintable(text));
    m_state = State::Dead;
    m_timer.stop();
    m_parser.reset();
    clearInput();
    killSocket();
    Outcome outcome;
    outcome.failure = failure;
    outcome.errorText = text;
    outcome.requestWritten = m_requestWritten;
    Q_EMIT finished(outcome);
}

void LocalConnection::killSocket()
{
    if (!m_socket)
        return;
    m_socket->disconnect(this);
    m_socket->abort();
}

} // namespace keyhole::client
