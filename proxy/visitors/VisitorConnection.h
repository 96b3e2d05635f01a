#pragma once

#include "bus/MessageBus.h"
#include "visitors/HostRouter.h"
#include "http/HttpParser.h"
#include "visitors/ResponseStream.h"
#include "visitors/TunnelRequest.h"
#include "visitors/UploadWindow.h"
#include "util/LazyDeadline.h"

#include <QObject>

#include <initializer_list>

class QSslSocket;
class QTcpSocket;

namespace keyhole::proxy {

class VisitorHost;

// One visitor's TCP (or TLS) connection: reads requests one at a time with the HTTP parser,
// enforces the limits, turns each request into an HttpRequest on the bus and writes the answer.
// Keep-alive and pipelining: the next request is read only after the current one is answered and
// that answer has left for the kernel, so at most one answer per connection is held in memory, and
// the socket's read buffer is bounded so a pipelining visitor is held back by TCP. A visitor that
// stops reading its answers is cut once it has taken no bytes for the send timeout.
// Bodies stream (VisitorStreaming.cpp): a request body past the inline size goes on in HttpBody
// messages while the client's credit lasts (the visitor is not read meanwhile), and a streamed
// answer is written piece by piece, credit going back as the visitor's kernel takes it.
// Owns its socket; deletes itself when the socket closes.
class VisitorConnection : public QObject
{
    Q_OBJECT

public:
    VisitorConnection(QTcpSocket *socket, bool tls, VisitorHost *gateway, QObject *parent);
    ~VisitorConnection() override;

    void answer(const protocol::HttpResponse &response);
    // Streamed bodies: the next piece of the answer, credit for the request body, a cancel.
    void answerBody(const protocol::HttpBody &body);
    void creditUpload(const protocol::HttpCredit &credit);
    void cancelled(const protocol::HttpCancel &cancel);
    void answerUpgrade(const protocol::WsResponse &response);
    void fail(const ExchangeFailure &failure);
    void closeWhenIdle();
    void resumeReading();       // after a pause for the bus's flow control
    qint64 unsentBytes() const; // answer bytes not yet taken by the kernel

private:
    enum class Phase { Idle, ReadingHead, ReadingBody, AwaitingTunnel, Draining, Closing };
    // BodyIdle: a streamed body, either way, moved no byte (or the visitor took none of its answer).
    enum class TimerPurpose { None, Idle, Head, Body, Deadline, Send, BodyIdle };

    void onReadyRead();
    void processInput();
    bool onHeadComplete();
    void onMessageComplete();
    TunnelRequest tunnelRequest() const;
    // Publishes the visitor's request (HttpRequest or WsRequest) to its tunnel; 404 when it is not online.
    void dispatchToTunnel(const protocol::Message &request, bool upgrade);
    void abandonUpgrade();
    void answerProxySelf();
    void onTimeout();

    // Streamed bodies (VisitorStreaming.cpp).
    bool takeRequestBody();
    void dispatchHttp(bool bodyComplete);
    void pumpUpload();
    void beginStreamedAnswer(const protocol::HttpResponse &response);
    void finishStreamedAnswer();
    void grantCredit();
    void armBodyIdle();
    void onBodyIdle();
    // The exchange cannot go on: before the answer's head, `status`; after it, the connection is cut.
    void failExchange(int status, const QString &message);
    // Tells the tunnel that nobody waits for this exchange any more (once; not for upgrades).
    void cancelTunnel(const QString &reason);
    void abortConnection();
    bool publish(const protocol::Message &message);
    void onDisconnected();
    void onBytesWritten();
    void readSocket(); // all the socket holds into m_in, counted
    // A whole answer's pieces, in order: in one system call when the kernel takes them (plain TCP,
    // nothing queued in Qt: net::SocketWriteThrough), the rest through the socket. Bytes that went
    // directly are counted here: the socket's bytesWritten() only reports what passed through it.
    // Not for a streamed answer's pieces: their credit follows what the socket hands the kernel.
    void writeToVisitor(std::initializer_list<QByteArray> pieces);
    void closeAfterFlush();

    void respondError(int status, const QString &message, bool close, int retryAfterSecs = 0);
    void respond(int status, protocol::HeaderList headers, const QByteArray &body, bool close);
    void finishExchange(int status, qint64 bytes, bool close);
    void arm(TimerPurpose purpose, int ms);
    void logAccess(int status, qint64 bytes, qint64 elapsedMs) const;
    void lingerAndClose();
    void handOver();
    // Gives up the socket; with `giveBackHandshake` the current request's head is unread again, for
    // a WebSocket server that parses it itself.
    QTcpSocket *releaseSocket(QByteArray *afterHandshake);

    QTcpSocket *m_socket;
    QSslSocket *m_sslSocket = nullptr; // m_socket when it is TLS: its encrypted bytes are queued apart
    VisitorHost *m_gateway;
    bool m_tls;
    http::HttpParser m_parser;
    util::LazyDeadline m_timer; // moved on every phase of every request: must be cheap to re-arm
    TimerPurpose m_timerPurpose = TimerPurpose::None;
    Phase m_phase = Phase::Idle;
    bool m_processing = false;
    bool m_closeWhenIdle = false;

    QByteArray m_in;          // bytes read from the socket and not yet handed to the parser
    qsizetype m_inPos = 0;    // parser position in m_in
    qsizetype m_msgStart = 0; // where the current request's head starts in m_in
    qsizetype m_headEnd = 0;  // and where it ends

    // The exchange in progress.
    QByteArray m_requestId;
    QByteArray m_method;
    QByteArray m_path;
    HostRouter::Route m_route;
    bool m_keepAlive = true;
    bool m_http10 = false;
    bool m_pendingOnBus = false;
    bool m_awaitingUpgrade = false; // a WsRequest is out and no WsResponse came back yet
    bool m_dispatched = false;      // an HttpRequest is out for this exchange
    bool m_bodyComplete = false;    // the parser has the whole request body
    bool m_requestDone = false;     // ...and all of it went to the tunnel (end included)
    bool m_headSent = false;        // the answer's head went to the visitor
    bool m_tunnelDone = false;      // the tunnel side has forgotten the exchange: no cancel to send
    bool m_answerClose = false;     // the streamed answer ends with the connection
    int m_answerStatus = 0;
    UploadWindow m_upload;
    ResponseStream m_download;
    qint64 m_startedMs = -1; // monotonic ms of the current exchange's start; -1: none
    QString m_peer;
};

} // namespace keyhole::proxy
