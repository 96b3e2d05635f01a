#pragma once

#include "http/HttpMessageHead.h"
#include "http/HttpParser.h"
#include "protocol/Messages.h"
#include "util/LazyDeadline.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QUrl>

#include <deque>
#include <memory>

class QTcpSocket;

namespace keyhole::client {

// One keep-alive HTTP/1.1 connection to the local service (plain TCP or TLS). Runs one exchange at
// a time and streams it: the request goes out in pieces (write()), the response comes back as its
// head and then its decoded body, piece by piece, as the service writes it. Nothing of the body is
// kept here; the reader can pause reading (setReadPaused) and then at most kReadBufferBytes wait in
// the socket, so TCP slows the service down. Afterwards the connection is either idle (reusable) or
// dead (the pool drops it). An idle connection closes itself after a while and reports closed().
// Timeouts of an exchange are the caller's (LocalExchange); this only times out idleness.
class LocalConnection : public QObject
{
    Q_OBJECT

public:
    enum class Failure {
        None,
        Refused,       // the connect was refused
        ConnectFailed, // other connect errors (host not found, TLS handshake...)
        Malformed,     // the response is not valid HTTP
        ClosedEarly,   // closed in the middle of the response, or before it on a new connection
        StaleClosed,   // a reused connection closed before any byte of the response (see requestWritten)
        StaleGarbled,  // a reused connection's first bytes were not a response head: left over from
                       // the service's previous answer (a body written after a HEAD response, say)
    };

    struct Outcome {
        Failure failure = Failure::None;
        QString errorText; // socket or parser error when failure != None
        // Some of the request reached the system's socket: the service may have read it and acted on
        // it even if it never answered, so only a request that is safe to repeat may be sent again.
        bool requestWritten = false;
    };

    static constexpr int kIdleTimeoutMs = 30000;
    // What the socket reads ahead of the reader; with reading paused the rest waits in the kernel.
    static constexpr qint64 kReadBufferBytes = protocol::kStreamWindowBytes;

    LocalConnection(const QUrl &target, const QList<QSslCertificate> &extraCaCertificates, QObject *parent = nullptr);
    ~LocalConnection() override;

    bool isIdle() const { return m_state == State::Idle; }
    bool isDead() const { return m_state == State::Dead; }
    int servedCount() const { return m_served; }

    // Starts one exchange; the connection must be idle. `bytes` is the request head and whatever of
    // the body is known (`bodyBytes` of it, before framing); `requestComplete` says nothing follows.
    void start(const QByteArray &bytes, qint64 bodyBytes, bool requestComplete, bool expectNoBody);
    // More of the request (framed as the head announced); reported by requestBodyWritten() once the
    // system's socket took it.
    void write(const QByteArray &bytes, qint64 bodyBytes, bool requestComplete);
    void setReadPaused(bool paused);
    // Closes without reporting anything.
    void abandon();

Q_SIGNALS:
    // The response head (interim 1xx responses skipped) with the body bytes that came with it;
    // `complete`: the whole response is in.
    void headReceived(const keyhole::http::ResponseHead &head, const QByteArray &body, bool complete);
    // More body, decoded (no chunk framing); `complete`: it was the last.
    void bodyReceived(const QByteArray &data, bool complete);
    // `bytes` more request body bytes were accepted by the system's socket.
    void requestBodyWritten(qint64 bytes);
    // The exchange is over: after the complete response (failure None), or failed.
    void finished(const keyhole::client::LocalConnection::Outcome &outcome);
    // An idle connection went away (closed by the service or by the idle timer).
    void closed();

private:
    enum class State { Idle, Busy, Dead };
    struct Segment {
        qint64 wireEnd;   // offset just past this write, counted from the exchange's first byte
        qint64 bodyBytes; // body bytes in it
    };

    void onConnected();
    void onReadyRead();
    void onBytesWritten(qint64 bytes);
    void onSocketGone();
    void onTimer();
    void writeOut(const QByteArray &bytes, qint64 bodyBytes);
    bool readAvailable();                          // true when the exchange ended
    bool parseBuffered();                          // true when the exchange ended
    bool handOver(QByteArray body, bool complete); // true when the exchange ended
    void finishExchange(bool keepAlive);
    void fail(Failure failure, const QString &text);
    void killSocket();

    QUrl m_target;
    bool m_tls = false;
    QTcpSocket *m_socket = nullptr;
    bool m_connected = false;
    util::LazyDeadline m_timer; // the idle timeout while idle
    State m_state = State::Idle;
    int m_served = 0;
    bool m_requestWritten = false; // during the current exchange
    bool m_requestComplete = false;
    bool m_readPaused = false;
    bool m_peerGone = false; // the socket closed while reading was paused; handled on resume

    std::unique_ptr<http::HttpParser> m_parser;
    bool m_headDone = false; // the head is parsed (not necessarily handed over yet)
    bool m_headSent = false; // headReceived() was emitted
    QByteArray m_buffer;     // bytes read from the service, parsed up to m_bufferPos
    qsizetype m_bufferPos = 0;
    QByteArray m_pendingWrite; // before the connection is up
    qint64 m_responseBytes = 0;
    bool m_expectNoBody = false;
    qint64 m_wireQueued = 0;  // bytes of this exchange handed to the socket
    qint64 m_wireWritten = 0; // of those, taken by the system
    std::deque<Segment> m_segments;
};

} // namespace keyhole::client

Q_DECLARE_METATYPE(keyhole::client::LocalConnection::Outcome)
