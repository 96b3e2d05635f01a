#include "websocket/WebSocketChannel.h"

#include "websocket/WebSocketLogging.h"
#include "websocket/Masking.h"
#include "net/SocketWriteThrough.h"

#include <QPointer>
#include <QRandomGenerator>
#include <QTcpSocket>
#include <QTimerEvent>

#include <cstring>

namespace keyhole::websocket {

namespace {
// Up to this size a client frame is masked on the stack and copied into the socket's buffer once;
// larger ones are masked into a QByteArray that the socket's buffer keeps without copying.
constexpr qsizetype kSmallFrameBytes = 4096;
// Frames up to this size reuse one buffer once the socket has let go of it: warm pages instead of
// faulting in a fresh allocation for every large message.
constexpr qsizetype kMaxReusedFrameBytes = 1024 * 1024;
// A read of at most this much is taken with readAll() (see processMessages()); the size of the
// first chunk of a socket's read buffer (QIODEVICE_BUFFERSIZE).
constexpr qint64 kWholeReadBytes = 16 * 1024;

qsizetype partsSize(const MessageParts &parts)
{
    qsizetype size = 0;
    for (const QByteArray &part : parts)
        size += part.size();
    return size;
}

// Masks the parts one after the other into `out`, as one payload: each part continues the key
// where the one before it stopped.
void maskParts(char *out, const MessageParts &parts, const MaskKey &key)
{
    qsizetype at = 0;
    for (const QByteArray &part : parts) {
        copyMasked(out + at, part.constData(), part.size(), key, int(at & 3));
        at += part.size();
    }
}

QByteArray closePayload(quint16 code, const QString &reason)
{
    QByteArray payload;
    payload.append(char(code >> 8)).append(char(code & 0xFF));
    QByteArray text = reason.toUtf8();
    if (text.size() > kMaxControlPayload - 2) {
        qsizetype cut = kMaxControlPayload - 2;
        while (cut > 0 && (uchar(text.at(cut)) & 0xC0) == 0x80) // not inside a UTF-8 sequence
            --cut;
        text.truncate(cut);
    }
    return payload + text;
}
} // namespace

WebSocketChannel::WebSocketChannel(QTcpSocket *socket, Role role, const QByteArray &alreadyRead, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_role(role)
    , m_decoder(role, kDefaultMaxIncomingMessageBytes)
    , m_pauseWhenCongested(role == Role::Server)
{
    m_socket->setParent(this);
    // Messages are written whole and coalesced per event-loop pass; Nagle would only hold back the
    // tail of a large one until the peer's (delayed) ACK.
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    // Bounded: while we do not read (paused, or our output is backed up) Qt stops pulling from the
    // kernel once this much is buffered, and TCP pushes back on the peer.
    m_socket->setReadBufferSize(kDefaultReadBufferBytes);
    connect(m_socket, &QTcpSocket::readyRead, this, &WebSocketChannel::onReadyRead);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &WebSocketChannel::onBytesWritten);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &WebSocketChannel::onSocketError);
    connect(m_socket, &QTcpSocket::disconnected, this, &WebSocketChannel::onSocketDisconnected);
    if (!alreadyRead.isEmpty())
        m_decoder.feed(alreadyRead);
    // Whatever is already here is delivered once the owner had a chance to connect to our signals.
    QMetaObject::invokeMethod(
        this,
        [this] {
            onReadyRead();
            if (m_socket->state() != QAbstractSocket::ConnectedState)
                onSocketDisconnected();
        },
        Qt::QueuedConnection);
}

WebSocketChannel::~WebSocketChannel()
{
    // The socket goes with us; it must not call back into a half-destroyed channel.
    m_socket->disconnect(this);
}

qint64 WebSocketChannel::bytesToWrite() const
{
    return m_socket->bytesToWrite();
}

QHostAddress WebSocketChannel::peerAddress() const
{
    return m_socket->peerAddress();
}

bool WebSocketChannel::sendBinaryMessage(const QByteArray &payload)
{
    return sendMessage(Opcode::Binary, MessageParts{payload});
}

bool WebSocketChannel::sendBinaryMessageEvenIfFull(const QByteArray &payload)
{
    return sendBinaryMessagePartsEvenIfFull(MessageParts{payload});
}

bool WebSocketChannel::sendBinaryMessageParts(const MessageParts &parts)
{
    return sendMessage(Opcode::Binary, parts);
}

bool WebSocketChannel::sendBinaryMessagePartsEvenIfFull(const MessageParts &parts)
{
    if (m_state != State::Open)
        return false;
    writeFrame(Opcode::Binary, parts);
    return true;
}

bool WebSocketChannel::sendTextMessage(const QByteArray &utf8)
{
    return sendMessage(Opcode::Text, MessageParts{utf8});
}

bool WebSocketChannel::sendMessage(Opcode opcode, const MessageParts &parts)
{
    if (m_state != State::Open)
        return false;
    if (m_socket->bytesToWrite() > m_maxOutgoingBytes) {
        qCWarning(lcWebSocket, "outgoing buffer over %lld bytes: message of %lld bytes refused",
                  static_cast<long long>(m_maxOutgoingBytes), static_cast<long long>(partsSize(parts)));
        return false;
    }
    writeFrame(opcode, parts);
    return true;
}

void WebSocketChannel::setReadingPaused(bool paused)
{
    if (m_readPaused == paused)
        return;
    m_readPaused = paused;
    if (!paused)
        resumeSoon();
}

void WebSocketChannel::resumeSoon()
{
    // Queued: the caller may be inside one of our signals, or about to delete us.
    if (m_resumeQueued || m_state == State::Closed)
        return;
    m_resumeQueued = true;
    QMetaObject::invokeMethod(
        this,
        [this] {
            m_resumeQueued = false;
            onReadyRead();
        },
        Qt::QueuedConnection);
}

bool WebSocketChannel::readingBlocked()
{
    if (!m_outputCongested && m_socket->bytesToWrite() > m_highWater)
        m_outputCongested = true;
    return m_readPaused || (m_pauseWhenCongested && m_outputCongested);
}

void WebSocketChannel::onBytesWritten(qint64 bytes)
{
    m_lastProgress.start();
    if (m_outputCongested && m_socket->bytesToWrite() <= m_highWater / 4) {
        m_outputCongested = false;
        if (m_pongOwed && m_state == State::Open)
            writeFrame(Opcode::Pong, MessageParts{m_owedPong});
        m_pongOwed = false;
        m_owedPong.clear();
        resumeSoon();
        Q_EMIT outputDrained();
    }
    Q_EMIT bytesWritten(bytes);
}

bool WebSocketChannel::ping(const QByteArray &payload)
{
    if (m_state != State::Open || payload.size() > kMaxControlPayload)
        return false;
    writeFrame(Opcode::Ping, MessageParts{payload});
    return true;
}

void WebSocketChannel::close(quint16 code, const QString &reason)
{
    if (m_state != State::Open)
        return;
    m_state = State::Closing;
    writeClose(code, reason);
    m_closeTimer.start(m_closeTimeoutMs, this);
    // The peer's Close must be read to end the handshake; whatever comes before it is still delivered.
    setReadingPaused(false);
}

void WebSocketChannel::abort()
{
    if (m_state == State::Closed)
        return;
    m_socket->abort(); // emits the socket's disconnected() if it was connected
    onSocketDisconnected();
}

void WebSocketChannel::writeFrame(Opcode opcode, const MessageParts &parts)
{
    writeFrameBytes(opcode, parts);
    if (m_socket->bytesToWrite() == 0)
        return; // all in the kernel already: nothing to time or to hold back for
    if (m_sendTimeoutMs > 0 && !m_sendTimer.isActive()) {
        m_lastProgress.start();
        m_sendTimer.start(m_sendTimeoutMs, this);
    }
    if (!m_outputCongested && m_socket->bytesToWrite() > m_highWater)
        m_outputCongested = true;
}

void WebSocketChannel::writeFrameBytes(Opcode opcode, const MessageParts &parts)
{
    const qsizetype payloadSize = partsSize(parts);
    char header[kMaxFrameHeaderBytes];
    if (m_role == Role::Server) {
        const int headerSize = encodeFrameHeader(header, opcode, quint64(payloadSize), true, nullptr);
        QVarLengthArray<QByteArrayView, 4> pieces{QByteArrayView(header, headerSize)};
        QVarLengthArray<const QByteArray *, 4> owners{nullptr};
        for (const QByteArray &part : parts) {
            if (!part.isEmpty()) {
                pieces.append(part);
                owners.append(&part);
            }
        }
        writePieces(pieces.constData(), owners.constData(), int(pieces.size()));
        return;
    }
    // Masking only guards intermediaries against script-chosen bytes; a fast PRNG is enough.
    MaskKey key;
    const quint32 random = QRandomGenerator::global()->generate();
    std::memcpy(key.data(), &random, key.size());
    const int headerSize = encodeFrameHeader(header, opcode, quint64(payloadSize), true, &key);
    const qsizetype total = headerSize + payloadSize;
    if (total <= kSmallFrameBytes) {
        char frame[kSmallFrameBytes];
        std::memcpy(frame, header, size_t(headerSize));
        maskParts(frame + headerSize, parts, key);
        const QByteArrayView piece(frame, total);
        const QByteArray *owner = nullptr;
        writePieces(&piece, &owner, 1);
        return;
    }
    QByteArray fresh;
    QByteArray &frame = total <= kMaxReusedFrameBytes ? m_maskBuffer : fresh;
    if (frame.isDetached() && frame.capacity() >= total)
        frame.resize(total); // the socket has written and released it
    else
        frame = QByteArray(total, Qt::Uninitialized); // the socket keeps the old one until written
    char *out = frame.data();                         // the only owner: no detach
    std::memcpy(out, header, size_t(headerSize));
    maskParts(out + headerSize, parts, key);
    const QByteArrayView piece(frame);
    const QByteArray *owner = &frame;
    writePieces(&piece, &owner, 1);
}

void WebSocketChannel::writePieces(const QByteArrayView *pieces, const QByteArray *const *owners, int count)
{
    if (!m_writeThrough) {
        for (int i = 0; i < count; ++i)
            m_socket->write(pieces[i].data(), pieces[i].size());
        return;
    }
    if (net::SocketWriteThrough::writeAll(m_socket, pieces, owners, count) > 0)
        m_lastProgress.start();
}

void WebSocketChannel::writeClose(quint16 code, const QString &reason)
{
    if (m_closeSent)
        return;
    m_closeSent = true;
    // 1005 means "no code": answered with an empty Close.
    writeFrame(Opcode::Close, MessageParts{code == CloseNoStatus ? QByteArray() : closePayload(code, reason)});
}

void WebSocketChannel::onReadyRead()
{
    if (m_state != State::Closed && !readingBlocked())
        processMessages();
}

void WebSocketChannel::processMessages()
{
    if (m_processing)
        return; // re-entered from one of our signals: the loop below picks up what was fed
    m_processing = true;
    QPointer<WebSocketChannel> self(this);
    // What fits in the socket's first buffer chunk is taken whole: read(all of it) hands over the
    // chunk itself instead of copying out of it, so an idle channel keeps no read buffer behind (a
    // 16 KiB chunk, ~4 KiB of RSS per idle tunnel on the proxy). Larger inflows are read straight
    // into the message below.
    const qint64 available = m_socket->bytesAvailable();
    if (available > 0 && available <= kWholeReadBytes)
        m_decoder.feed(m_socket->read(available));
    // Every message may make output (a pong) or make the owner pause: look before each one.
    while (m_state != State::Closed && !m_closeReceived && !readingBlocked()) {
        // Reads the socket only as far as each message needs, straight into the message.
        std::optional<Message> message = m_decoder.next(m_socket);
        if (!message) {
            if (m_decoder.error() != 0)
                failConnection(m_decoder.error(), m_decoder.errorString());
            break;
        }
        switch (message->opcode) {
        case Opcode::Binary:
            Q_EMIT binaryMessageReceived(message->payload);
            break;
        case Opcode::Text:
            Q_EMIT textMessageReceived(message->text);
            break;
        case Opcode::Ping:
            if (m_state != State::Open)
                break;
            if (m_outputCongested) { // RFC 6455 5.5.3: answering the latest ping is enough
                m_pongOwed = true;
                m_owedPong = message->payload;
            } else {
                writeFrame(Opcode::Pong, MessageParts{message->payload});
            }
            break;
        case Opcode::Pong:
            Q_EMIT pong(message->payload);
            break;
        case Opcode::Close:
            onPeerClose(*message);
            break;
        case Opcode::Continuation:
            break; // never yielded by the decoder
        }
        if (!self)
            return; // deleted by a slot; nothing of ours may be touched
    }
    m_processing = false;
}

void WebSocketChannel::onPeerClose(const Message &message)
{
    m_closeReceived = true;
    m_closeCode = message.closeCode;
    m_closeReason = message.text;
    if (m_state == State::Open) {
        m_state = State::Closing;
        writeClose(message.closeCode, QString()); // echo the code, as RFC 6455 5.5.1 suggests
    }
    // Both Close frames are out. The server ends the TCP connection (RFC 6455 7.1.1), so the TIME_WAIT
    // is its; a client waits for that, within the close timeout.
    if (!m_closeTimer.isActive())
        m_closeTimer.start(m_closeTimeoutMs, this);
    if (m_role == Role::Server)
        m_socket->disconnectFromHost();
}

void WebSocketChannel::failConnection(quint16 code, const QString &why)
{
    qCWarning(lcWebSocket).noquote() << "closing the WebSocket to" << m_socket->peerAddress().toString() << "with"
                                     << code << "-" << why;
    if (m_errorString.isEmpty())
        m_errorString = QStringLiteral("WebSocket protocol error: %1").arg(why);
    if (m_violationCode == 0)
        m_violationCode = code;
    m_state = State::Closing;
    // The Close goes through Qt's buffer, out on the next pass and the connection closed after it,
    // as before direct writes: the peer may still be sending (the oversized message that failed
    // us), and closing the same instant we write would reset the connection with our Close unread.
    m_writeThrough = false;
    writeClose(code, why);
    if (!m_closeTimer.isActive())
        m_closeTimer.start(m_closeTimeoutMs, this);
    m_socket->disconnectFromHost(); // RFC 6455 7.1.7: after the Close, the connection goes
}

void WebSocketChannel::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_sendTimer.timerId()) {
        m_sendTimer.stop();
        if (m_state == State::Closed || m_socket->bytesToWrite() == 0)
            return; // all out: the timer runs again with the next write
        const qint64 quiet = m_lastProgress.elapsed();
        if (quiet < m_sendTimeoutMs) {
            m_sendTimer.start(int(m_sendTimeoutMs - quiet), this);
            return;
        }
        qCWarning(lcWebSocket).noquote() << "the WebSocket peer" << m_socket->peerAddress().toString() << "took none of"
                                         << m_socket->bytesToWrite() << "bytes for" << m_sendTimeoutMs
                                         << "ms: disconnected";
        if (m_errorString.isEmpty())
            m_errorString = QStringLiteral("the peer stopped reading");
        abort();
        return;
    }
    if (event->timerId() != m_closeTimer.timerId()) {
        QObject::timerEvent(event);
        return;
    }
    m_closeTimer.stop();
    if (m_errorString.isEmpty())
        m_errorString = QStringLiteral("the closing handshake timed out");
    abort();
}

void WebSocketChannel::onSocketError(QAbstractSocket::SocketError error)
{
    // The end of a closing handshake is not an error.
    if (m_state != State::Open)
        return;
    if (m_errorString.isEmpty())
        m_errorString = m_socket->errorString();
    Q_EMIT errorOccurred(error);
}

void WebSocketChannel::onSocketDisconnected()
{
    if (m_state == State::Closed)
        return;
    m_state = State::Closed;
    m_closeTimer.stop();
    m_sendTimer.stop();
    if (!m_closeReceived)
        m_closeCode = CloseAbnormal;
    Q_EMIT disconnected();
}

} // namespace keyhole::websocket
