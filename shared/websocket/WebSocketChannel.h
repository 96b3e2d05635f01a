#pragma once

#include "websocket/MessageDecoder.h"
#include "websocket/WebSocketFrame.h"

#include <QAbstractSocket>
#include <QByteArray>
#include <QElapsedTimer>
#include <QHostAddress>
#include <QObject>
#include <QString>
#include <QBasicTimer>

class QTcpSocket;

namespace keyhole::websocket {

// An open WebSocket (RFC 6455) over a connected QTcpSocket or QSslSocket whose opening handshake is
// already done, in either role. Messages go out as single frames written straight to the socket
// without a flush: whatever is written in one event-loop pass leaves in as few segments as TCP
// allows. Incoming bytes are read in whole chunks and decoded by MessageDecoder; pings are answered,
// the closing handshake is ours, bounded by a timeout after which the socket is aborted.
//
// Bounded by construction towards a peer that does not read: once more than the high-water mark
// waits in the socket's write buffer a server-role channel stops reading (no more messages, no more
// pongs), and the socket's read buffer is bounded, so TCP holds the peer back instead of our memory;
// reading resumes below the low-water mark. A client-role channel reads on (see
// setPauseReadingWhenCongested()) but owes at most one pong while congested. A peer that accepts no
// byte of pending output for the send timeout is cut off. The owner can pause reading too (flow
// control towards somewhere else).
//
// Owns the socket. disconnected() is emitted once, when the socket is gone (also after abort());
// the owner deletes the channel then, with deleteLater(). Not thread-safe: one thread, like its socket.
class WebSocketChannel : public QObject
{
    Q_OBJECT

public:
    enum class State { Open, Closing, Closed };

    static constexpr qint64 kDefaultMaxIncomingMessageBytes = 16 * 1024 * 1024;
    static constexpr qint64 kDefaultMaxOutgoingBytes = 64 * 1024 * 1024;
    static constexpr int kDefaultCloseTimeoutMs = 5000;
    static constexpr qint64 kDefaultHighWaterBytes = 1024 * 1024;
    static constexpr qint64 kDefaultReadBufferBytes = 256 * 1024;
    static constexpr int kDefaultSendTimeoutMs = 30000;

    // `alreadyRead`: bytes read from the socket past the handshake; they are the first frames.
    WebSocketChannel(QTcpSocket *socket, Role role, const QByteArray &alreadyRead = {}, QObject *parent = nullptr);
    ~WebSocketChannel() override;

    // A message (of any number of fragments) over this size closes the channel with 1009.
    void setMaxIncomingMessageBytes(qint64 bytes) { m_decoder.setMaxMessageBytes(bytes); }
    // Once more than this is waiting in the socket's write buffer, sendBinaryMessage() refuses.
    void setMaxOutgoingBytes(qint64 bytes) { m_maxOutgoingBytes = bytes; }
    // How long close() waits for the peer's Close and the end of the connection before aborting.
    void setCloseTimeout(int ms) { m_closeTimeoutMs = ms; }
    // Past `bytes` unsent the channel stops reading and isCongested() holds; below a quarter of it
    // reading resumes and outputDrained() is emitted.
    void setHighWaterMark(qint64 bytes) { m_highWater = bytes; }
    qint64 highWaterMark() const { return m_highWater; }
    // A peer that takes none of our pending output for this long is aborted (0: never).
    void setSendTimeout(int ms) { m_sendTimeoutMs = ms; }
    // Whether reading stops while isCongested(). On by default for servers, whose peers are the
    // untrusted ones; off for clients, so that our client and the proxy (both pausing) can never
    // wait for each other to read.
    void setPauseReadingWhenCongested(bool pause) { m_pauseWhenCongested = pause; }
    // The owner's own pause: no message is read or emitted until reading is resumed.
    void setReadingPaused(bool paused);
    bool isReadingPaused() const { return m_readPaused; }
    // More than the high-water mark waits to be sent.
    bool isCongested() const { return m_outputCongested; }

    // Queues one binary message. False (nothing written) when the channel is not open or the
    // outgoing buffer is over its bound: the caller decides what to drop or when to retry.
    bool sendBinaryMessage(const QByteArray &payload);
    // Past the outgoing bound too: for small messages whose number the caller bounds (one per
    // stream it tears down), which must not be lost. False only when the channel is not open.
    bool sendBinaryMessageEvenIfFull(const QByteArray &payload);
    // One binary message given as consecutive parts (e.g. an encoded head, a shared body, a tail),
    // written without joining them first: a server writes each part as it is (the socket keeps parts
    // of 4 KiB or more without copying), a client masks them straight into one frame.
    bool sendBinaryMessageParts(const MessageParts &parts);
    bool sendBinaryMessagePartsEvenIfFull(const MessageParts &parts);
    // The same for a text message; `utf8` must be valid UTF-8 (the peer fails the connection otherwise).
    bool sendTextMessage(const QByteArray &utf8);
    // Up to 125 bytes; the answer comes as pong().
    bool ping(const QByteArray &payload = {});
    // Starts the closing handshake (a no-op unless open). `reason` is cut to fit a control frame.
    void close(quint16 code = CloseNormal, const QString &reason = {});
    void abort();

    State state() const { return m_state; }
    bool isOpen() const { return m_state == State::Open; }
    Role role() const { return m_role; }
    // Written but not yet handed to the kernel: for backpressure, together with bytesWritten().
    qint64 bytesToWrite() const;
    QHostAddress peerAddress() const;
    // The peer's Close: its code (CloseNoStatus if none, CloseAbnormal if the connection ended without
    // one) and reason.
    quint16 closeCode() const { return m_closeCode; }
    QString closeReason() const { return m_closeReason; }
    // The code we closed with because the peer broke the protocol (1002, 1007, 1009), or 0.
    quint16 violationCode() const { return m_violationCode; }
    // The first thing that went wrong (socket error, protocol violation, close timeout), or empty.
    QString errorString() const { return m_errorString; }

Q_SIGNALS:
    void binaryMessageReceived(const QByteArray &message);
    void textMessageReceived(const QString &message);
    void pong(const QByteArray &payload);
    void bytesWritten(qint64 bytes);
    // The output went from over the high-water mark to under the low-water mark.
    void outputDrained();
    // A socket error while open (the connection then ends with disconnected()).
    void errorOccurred(QAbstractSocket::SocketError error);
    void disconnected();

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void onReadyRead();
    void onBytesWritten(qint64 bytes);
    bool readingBlocked();
    void resumeSoon();
    bool sendMessage(Opcode opcode, const MessageParts &parts);
    void processMessages();
    void onPeerClose(const Message &message);
    void onSocketError(QAbstractSocket::SocketError error);
    void onSocketDisconnected();
    void failConnection(quint16 code, const QString &why);
    void writeFrame(Opcode opcode, const MessageParts &parts);
    void writeFrameBytes(Opcode opcode, const MessageParts &parts);
    // Writes the pieces in order: what the kernel takes at once goes to it directly
    // (net::SocketWriteThrough), the rest through the socket's buffer.
    void writePieces(const QByteArrayView *pieces, const QByteArray *const *owners, int count);
    void writeClose(quint16 code, const QString &reason);

    QTcpSocket *m_socket;
    Role m_role;
    MessageDecoder m_decoder;
    State m_state = State::Open;
    QBasicTimer m_closeTimer;     // not a QTimer: no QObject per channel, thousands of them sit idle
    QBasicTimer m_sendTimer;      // runs only while output is pending
    QElapsedTimer m_lastProgress; // since the socket last handed bytes to the kernel
    int m_closeTimeoutMs = kDefaultCloseTimeoutMs;
    int m_sendTimeoutMs = kDefaultSendTimeoutMs;
    qint64 m_maxOutgoingBytes = kDefaultMaxOutgoingBytes;
    qint64 m_highWater = kDefaultHighWaterBytes;
    bool m_outputCongested = false;
    bool m_pauseWhenCongested;
    bool m_writeThrough = true; // bytes may go straight to the kernel (see writePieces)
    bool m_pongOwed = false;    // a ping came while congested: answered (the latest only) once drained
    QByteArray m_owedPong;
    bool m_readPaused = false;
    bool m_resumeQueued = false;
    bool m_closeSent = false;
    bool m_closeReceived = false;
    bool m_processing = false;
    quint16 m_closeCode = CloseAbnormal;
    quint16 m_violationCode = 0;
    QString m_closeReason;
    QString m_errorString;
    QByteArray m_maskBuffer; // a client's large frames, reused once the socket has written one
};

} // namespace keyhole::websocket
