#include "LocalConnection.h"

#include "ClientLogging.h"
#include "protocol/SharedSlice.h"

#include <QMetaObject>
#include <QPointer>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

namespace keyhole::client {

namespace {

// The parser reserves up to the body limit for an announced Content-Length, so it starts small; the
// body is taken out after every feed, and once the head is known the limit is lifted (the caller
// counts the body against the proxy's limit itself).
constexpr qint64 kParserBodyBytes = 4 * LocalConnection::kReadBufferBytes;
constexpr qint64 kUnlimitedBody = qint64(1) << 60;
// Reads of at least this much take the socket's buffer chunk rather than a copy (see readAvailable()).
constexpr qint64 kHandOverBytes = 16 * 1024;

http::HttpParser::Limits responseLimits()
{
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = 64 * 1024;
    limits.maxHeaders = 256; // what one protocol message may carry
    limits.maxBodyBytes = kParserBodyBytes;
    // A small answer's headers share the array it was read into (readAvailable() gives each read an
    // array of its own and never changes it in place), as its body does.
    limits.shareHeadersFromBufferUpTo = protocol::kSmallSliceOwnerBytes;
    return limits;
}

bool isInterim(int status)
{
    return status >= 100 && status < 200 && status != 101;
}

} // namespace

LocalConnection::LocalConnection(const QUrl &target, const QList<QSslCertificate> &extraCaCertificates, QObject *parent)
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
    m_socket->setReadBufferSize(kReadBufferBytes);
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

void LocalConnection::start(const QByteArray &bytes, qint64 bodyBytes, bool requestComplete, bool expectNoBody)
{
    Q_ASSERT(m_state == State::Idle);
    m_state = State::Busy;
    m_timer.stop();
    m_buffer.clear();
    m_bufferPos = 0;
    m_responseBytes = 0;
    m_requestWritten = false;
    m_requestComplete = requestComplete;
    m_readPaused = false;
    m_peerGone = false;
    m_headDone = false;
    m_headSent = false;
    m_expectNoBody = expectNoBody;
    m_wireQueued = 0;
    m_wireWritten = 0;
    m_segments.clear();
    m_parser = std::make_unique<http::HttpParser>(http::HttpParser::Mode::Response, responseLimits());
    m_parser->setExpectNoBody(expectNoBody);

    writeOut(bytes, bodyBytes);
    if (m_connected)
        return;
    const QString host = m_target.host();
    const auto port = static_cast<quint16>(m_target.port(m_tls ? 443 : 80));
    if (m_tls)
        static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(host, port);
    else
        m_socket->connectToHost(host, port);
}

void LocalConnection::write(const QByteArray &bytes, qint64 bodyBytes, bool requestComplete)
{
    if (m_state != State::Busy)
        return;
    m_requestComplete = requestComplete;
    writeOut(bytes, bodyBytes);
}

void LocalConnection::writeOut(const QByteArray &bytes, qint64 bodyBytes)
{
    if (bytes.isEmpty())
        return;
    m_wireQueued += bytes.size();
    if (bodyBytes > 0)
        m_segments.push_back({m_wireQueued, bodyBytes});
    if (m_connected)
        m_socket->write(bytes);
    else
        m_pendingWrite += bytes;
}

void LocalConnection::setReadPaused(bool paused)
{
    if (m_readPaused == paused)
        return;
    m_readPaused = paused;
    // What arrived while paused raises no new readyRead: look at it from the event loop (not from
    // inside the caller, which may be handling our own signal).
    if (!paused && m_state == State::Busy) {
        QMetaObject::invokeMethod(
            this,
            [this] {
                if (m_state != State::Busy || m_readPaused)
                    return;
                if (m_peerGone)
                    onSocketGone();
                else
                    onReadyRead();
            },
            Qt::QueuedConnection);
    }
}

void LocalConnection::abandon()
{
    m_state = State::Dead;
    m_timer.stop();
    m_parser.reset();
    killSocket();
}

void LocalConnection::onConnected()
{
    m_connected = true;
    if (!m_pendingWrite.isEmpty())
        m_socket->write(std::exchange(m_pendingWrite, QByteArray()));
}

void LocalConnection::onBytesWritten(qint64 bytes)
{
    if (m_state != State::Busy)
        return;
    m_requestWritten = true;
    m_wireWritten += bytes;
    qint64 body = 0;
    while (!m_segments.empty() && m_segments.front().wireEnd <= m_wireWritten) {
        body += m_segments.front().bodyBytes;
        m_segments.pop_front();
    }
    if (body > 0)
        Q_EMIT requestBodyWritten(body);
}

void LocalConnection::onReadyRead()
{
    if (m_state != State::Busy) {
        if (m_socket->bytesAvailable() <= 0)
            return;
        // Bytes nobody asked for: the connection is out of step, so do not reuse it.
        const bool wasIdle = m_state == State::Idle;
        m_state = State::Dead;
        m_timer.stop();
        killSocket();
        if (wasIdle)
            Q_EMIT closed();
        return;
    }
    while (!m_readPaused && m_state == State::Busy && m_socket->bytesAvailable() > 0) {
        if (readAvailable())
            return;
    }
}

bool LocalConnection::readAvailable()
{
    // A large read takes exactly what is buffered: when that is one chunk of the socket's buffer
    // (the usual case) the chunk itself is handed over instead of copied out. A small one is
    // copied into an array of its own size, so that the socket keeps its chunk for the next read
    // and the body (and the request log's preview of it, which shares it) holds no more than it
    // needs: read(maxSize) would allocate maxSize, a whole window, for a 1 KiB answer.
    const qint64 available = m_socket->bytesAvailable();
    QByteArray data;
    if (available >= kHandOverBytes) {
        data = m_socket->read(qMin(available, kReadBufferBytes));
    } else if (available > 0) {
        data.resize(available);
        data.resize(qMax<qint64>(0, m_socket->read(data.data(), available)));
    }
    if (data.isEmpty())
        return false;
    m_responseBytes += data.size();
    if (m_bufferPos > 0) {
        m_buffer.remove(0, m_bufferPos); // a partial message left over: usually a few bytes
        m_bufferPos = 0;
    }
    m_buffer.append(data); // shares `data` when the buffer is empty
    return parseBuffered();
}

bool LocalConnection::parseBuffered()
{
    for (;;) {
        qsizetype consumed = 0;
        // The body may be a slice of m_buffer rather than a copy.
        const auto status = m_parser->feed(m_buffer, m_bufferPos, &consumed);
        m_bufferPos += qBound<qsizetype>(0, consumed, m_buffer.size() - m_bufferPos);
        if (m_bufferPos == m_buffer.size()) {
            m_buffer.clear();
            m_bufferPos = 0;
        }
        switch (status) {
        case http::HttpParser::Status::NeedMore:
            return handOver(m_parser->takeBody(), false);
        case http::HttpParser::Status::HeadComplete:
            if (!isInterim(m_parser->responseHead().status)) {
                m_headDone = true;
                m_parser->setMaxBodyBytes(kUnlimitedBody);
            }
            continue; // feed the rest (possibly nothing) so a body-less message completes
        case http::HttpParser::Status::MessageComplete:
            if (isInterim(m_parser->responseHead().status)) {
                // An interim response (100 Continue, 103 Early Hints): the real one follows.
                m_parser->reset();
                m_parser->setExpectNoBody(m_expectNoBody);
                continue;
            }
            return handOver(m_parser->takeBody(), true);
        case http::HttpParser::Status::Error:
            fail(m_served > 0 && !m_headDone ? Failure::StaleGarbled : Failure::Malformed, m_parser->errorText());
            return true;
        }
        return false;
    }
}

// Passes the head (once) and body bytes on; the receiver may abandon us from its slot.
bool LocalConnection::handOver(QByteArray body, bool complete)
{
    if (!m_headDone)
        return false;
    QPointer<LocalConnection> self(this);
    if (!m_headSent) {
        m_headSent = true;
        const http::ResponseHead head = m_parser->responseHead();
        Q_EMIT headReceived(head, body, complete);
    } else if (!body.isEmpty() || complete) {
        Q_EMIT bodyReceived(body, complete);
    }
    if (!self || m_state != State::Busy)
        return true;
    if (!complete)
        return false;
    const http::ResponseHead &head = m_parser->responseHead();
    finishExchange(head.keepAlive && head.status != 101 && m_buffer.isEmpty() && m_requestComplete
                   && m_socket->bytesToWrite() == 0);
    return true;
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

    // Busy. What is still buffered in the socket comes first: it may complete the response. A
    // paused reader gets it when it resumes.
    if (m_socket->bytesAvailable() > 0) {
        if (m_readPaused) {
            m_peerGone = true;
            return;
        }
        while (m_socket->bytesAvailable() > 0) {
            if (readAvailable())
                return;
            if (m_readPaused) {
                m_peerGone = true;
                return;
            }
        }
    }
    if (m_responseBytes > 0) {
        // A body that runs to EOF ends here; anything else is truncated.
        const auto status = m_parser->finish();
        if (status == http::HttpParser::Status::MessageComplete) {
            handOver(m_parser->takeBody(), true);
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
    if (m_state == State::Idle) {
        m_state = State::Dead;
        killSocket();
        Q_EMIT closed();
    }
}

void LocalConnection::finishExchange(bool keepAlive)
{
    ++m_served;
    m_parser.reset();
    m_buffer.clear();
    m_bufferPos = 0;
    m_segments.clear();
    if (keepAlive && m_socket->state() == QAbstractSocket::ConnectedState) {
        m_state = State::Idle;
        m_timer.start(kIdleTimeoutMs);
    } else {
        m_state = State::Dead;
        m_timer.stop();
        killSocket();
    }
    // Last: the receiver may start the next exchange or delete us (later) from here.
    Q_EMIT finished(Outcome{});
}

void LocalConnection::fail(Failure failure, const QString &text)
{
    qCDebug(lcForwarder, "local connection failed: %s", qPrintable(text));
    m_state = State::Dead;
    m_timer.stop();
    m_parser.reset();
    m_buffer.clear();
    m_bufferPos = 0;
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
