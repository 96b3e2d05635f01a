#pragma once

#include "bus/MessageBus.h"
#include "visitors/HostRouter.h"
#include "http/HttpParser.h"
#include "visitors/TunnelRequest.h"
#include "util/LazyDeadline.h"

#include <QObject>

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
// Owns its socket; deletes itself when the socket closes.
class VisitorConnection : public QObject
{
    Q_OBJECT

public:
    VisitorConnection(QTcpSocket *socket, bool tls, VisitorHost *gateway, QObject *parent);
    ~VisitorConnection() override;

    void answer(const protocol::HttpResponse &response);
    void answerUpgrade(const protocol::WsResponse &response);
    void fail(const ExchangeFailure &failure);
    void closeWhenIdle();
    void resumeReading(); // after a pause for the bus's flow control
    qint64 unsentBytes() const; // answer bytes not yet taken by the kernel

private:
    enum class Phase { Idle, ReadingHead, ReadingBody, AwaitingTunnel, Draining, Closing };
    enum class TimerPurpose { None, Idle, Head, Body, Deadline, Send };

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
    void onDisconnected();
    void onBytesWritten();
    void closeAfterFlush();

    void respondError(int status, const QString &message, bool close, int retryAfterSecs = 0);
    void respond(int status, protocol::HeaderList headers, const QByteArray &body, bool close);
    void finishExchange(int status, qint64 bytes, bool close);
    void arm(TimerPurpose purpose, int ms);
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
    qint64 m_startedMs = -1; // monotonic ms of the current exchange's start; -1: none
    QString m_peer;
};

} // namespace keyhole::proxy
