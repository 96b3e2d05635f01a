#include "visitors/VisitorConnection.h"

#include "bus/ProxyMetrics.h"

#include "http/HeaderRules.h"
#include "http/HttpWriter.h"
#include "net/SocketWriteThrough.h"
#include "visitors/TunnelRequest.h"
#include "visitors/VisitorHost.h"
#include "visitors/VisitorOptions.h"
#include "visitors/VisitorResponse.h"
#include "visitors/VisitorRouting.h"
#include "protocol/Addressing.h"
#include "util/Clock.h"
#include "util/LogSafe.h"
#include "util/Logging.h"
#include "visitors/VisitorLogging.h"

#include <QHostAddress>
#include <QSslSocket>
#include <QTcpSocket>
#include <QVarLengthArray>

#include <limits>

namespace keyhole::proxy {

namespace {
constexpr qint64 kSocketReadBuffer = 256 * 1024;

QString peerName(const QTcpSocket *socket)
{
    bool isV4 = false;
    const quint32 v4 = socket->peerAddress().toIPv4Address(&isV4);
    return isV4 ? QHostAddress(v4).toString() : socket->peerAddress().toString();
}
} // namespace

VisitorConnection::VisitorConnection(QTcpSocket *socket, bool tls, VisitorHost *gateway, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_gateway(gateway)
    , m_tls(tls)
    , m_parser(http::HttpParser::Mode::Request, gateway->options().parserLimits())
    , m_peer(peerName(socket))
{
    m_sslSocket = tls ? qobject_cast<QSslSocket *>(socket) : nullptr;
    // TLS 1.3 session tickets sent after the handshake can sit in QSslSocket's encrypted buffer until
    // the next write. Push them out now, before our slots are connected (a flush may read too).
    if (m_sslSocket)
        m_sslSocket->flush();
    m_socket->setParent(this);
    m_socket->setReadBufferSize(kSocketReadBuffer);
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1); // answers go out whole; don't wait for ACKs
    connect(&m_timer, &util::LazyDeadline::expired, this, &VisitorConnection::onTimeout);
    connect(m_socket, &QTcpSocket::readyRead, this, &VisitorConnection::onReadyRead);
    connect(m_socket, &QTcpSocket::disconnected, this, &VisitorConnection::onDisconnected);
    connect(m_socket, &QTcpSocket::bytesWritten, this, &VisitorConnection::onBytesWritten);
    if (m_sslSocket) // bytesWritten only says the answer was encrypted; this says it left
        connect(m_sslSocket, &QSslSocket::encryptedBytesWritten, this, &VisitorConnection::onBytesWritten);
    arm(TimerPurpose::Idle, gateway->options().headTimeoutMs);
    if (m_socket->bytesAvailable() > 0)
        onReadyRead();
}

VisitorConnection::~VisitorConnection()
{
    abandonUpgrade();
    cancelTunnel(QStringLiteral("the visitor left"));
    if (m_pendingOnBus)
        m_gateway->unregisterPending(m_requestId);
    m_gateway->connectionClosed(this);
}

qint64 VisitorConnection::unsentBytes() const
{
    if (!m_socket)
        return 0;
    return m_socket->bytesToWrite() + (m_sslSocket ? m_sslSocket->encryptedBytesToWrite() : 0);
}

void VisitorConnection::onBytesWritten()
{
    if (!m_socket)
        return;
    if (m_download.active()) {
        // A streamed answer: the bytes the kernel took are credit for the client's next ones.
        grantCredit();
        armBodyIdle();
        return;
    }
    if (unsentBytes() > 0) {
        // The visitor is reading, however slowly: the send timeout counts from its last progress.
        if (m_timerPurpose == TimerPurpose::Send)
            arm(TimerPurpose::Send, m_gateway->options().sendTimeoutMs);
        return;
    }
    if (m_phase != Phase::Idle || m_timerPurpose != TimerPurpose::Send)
        return;
    // The last answer is out: read and answer the next request, if the visitor sent one ahead.
    arm(TimerPurpose::Idle, m_gateway->options().idleTimeoutMs);
    if (m_socket->bytesAvailable() > 0)
        readSocket();
    processInput();
}

void VisitorConnection::writeToVisitor(std::initializer_list<QByteArray> pieces)
{
    if (!m_socket || m_socket->state() != QTcpSocket::ConnectedState)
        return;
    QVarLengthArray<QByteArrayView, 3> views;
    QVarLengthArray<const QByteArray *, 3> owners;
    for (const QByteArray &piece : pieces) {
        if (!piece.isEmpty()) {
            views.append(piece);
            owners.append(&piece);
        }
    }
    const qint64 direct = net::SocketWriteThrough::writeAll(m_socket, views.constData(), owners.constData(),
                                                            int(views.size()));
    m_gateway->metrics().sentBytes += quint64(direct);
}

void VisitorConnection::onReadyRead()
{
    // While a request waits for its answer, or an answer waits for the visitor to read it, further
    // bytes stay in the (bounded) socket buffer. Draining: LingeringClose reads and discards;
    // nothing after an error or a close is parsed.
    if (m_phase == Phase::AwaitingTunnel || m_phase == Phase::Closing || m_phase == Phase::Draining)
        return;
    if (m_phase == Phase::Idle && m_timerPurpose == TimerPurpose::Send)
        return; // the last answer is not out yet: onBytesWritten() reads on once it is
    // The instance holding the tunnel is behind: leave the body in the (bounded) socket buffer, so
    // TCP holds the visitor back instead of our memory or Redis's.
    if (m_phase == Phase::ReadingBody && m_gateway->bus()->congestedFor(m_route.label)) {
        m_gateway->pauseForFlow(this);
        return;
    }
    // A streamed body waits for the client's credit, and what was read ahead is bounded: TCP holds
    // the visitor back. HttpCredit reads on.
    if (m_phase == Phase::ReadingBody && m_dispatched
        && (m_upload.room() <= 0 || m_in.size() - m_inPos >= kSocketReadBuffer))
        return;
    readSocket();
    processInput();
}

void VisitorConnection::readSocket()
{
    const QByteArray bytes = m_socket->readAll();
    m_gateway->metrics().receivedBytes += quint64(bytes.size());
    m_in.append(bytes);
}

void VisitorConnection::resumeReading()
{
    if (m_socket && m_socket->bytesAvailable() > 0)
        onReadyRead();
}

void VisitorConnection::processInput()
{
    if (m_processing)
        return; // re-entered from an answer given synchronously; the loop below continues
    m_processing = true;
    bool bodyMayBeEmpty = false; // after the head, feed once more even with no bytes: it may be complete
    while (m_inPos < m_in.size() || bodyMayBeEmpty) {
        bodyMayBeEmpty = false;
        if (m_phase == Phase::Idle) {
            if (m_closeWhenIdle || m_timerPurpose == TimerPurpose::Send) // one answer in memory at a time
                break;
            m_phase = Phase::ReadingHead;
            m_msgStart = m_inPos;
            arm(TimerPurpose::Head, m_gateway->options().headTimeoutMs);
        }
        if (m_phase != Phase::ReadingHead && m_phase != Phase::ReadingBody)
            break;

        qsizetype len = m_in.size() - m_inPos;
        const bool upload = m_phase == Phase::ReadingBody && m_route.kind == HostRouter::Kind::Tunnel;
        if (upload) {
            // The body parsed is at most the bytes fed: feed no more than the window has room for.
            const qint64 room = m_upload.room();
            if (room <= 0 && len > 0)
                break; // HttpCredit resumes
            len = qsizetype(qMin<qint64>(len, room));
        }
        qsizetype consumed = 0;
        const auto status = m_parser.feed(m_in.constData() + m_inPos, len, &consumed);
        m_inPos += consumed;
        if (m_phase == Phase::ReadingBody && !takeRequestBody())
            break; // answered (413): the connection closes
        if (status == http::HttpParser::Status::NeedMore) {
            // All that had come of the body (or all the window allows) is read: the request goes
            // now, streamed. A body announced small enough to ride inline is awaited instead (the
            // head timer bounds the wait), so a small upload is still one message.
            const qint64 length = m_parser.requestHead().contentLength;
            const bool awaitInline = length >= 0 && length <= protocol::kInlineBodyBytes;
            if (upload && !m_dispatched && !awaitInline && (m_inPos >= m_in.size() || m_upload.room() <= 0))
                dispatchHttp(false);
            continue;
        }
        if (status == http::HttpParser::Status::HeadComplete) {
            if (!onHeadComplete())
                break;
            bodyMayBeEmpty = true;
            continue;
        }
        if (status == http::HttpParser::Status::MessageComplete) {
            onMessageComplete();
            continue;
        }
        // Parse errors: answer with the matching status and close; the stream is no longer in sync.
        using Error = http::HttpParser::Error;
        switch (m_parser.error()) {
        case Error::HeadTooLarge:
        case Error::TooManyHeaders:
            respondError(431, QStringLiteral("The request's headers are too large."), true);
            break;
        case Error::UrlTooLong:
            respondError(414, QStringLiteral("The request's URL is too long."), true);
            break;
        case Error::BodyTooLarge:
            failExchange(413,
                         QStringLiteral("The request body is larger than this proxy accepts (%1 bytes).")
                             .arg(m_gateway->options().maxRequestBodyBytes));
            break;
        default:
            failExchange(400, QStringLiteral("Malformed request: %1").arg(m_parser.errorText()));
            break;
        }
        break;
    }
    // Forget what the parser has consumed, keeping the current head for a possible hand-over.
    const qsizetype keepFrom = m_phase == Phase::ReadingHead || m_awaitingUpgrade ? m_msgStart : m_inPos;
    if (keepFrom >= m_in.size()) {
        m_in.clear();
        m_inPos = m_msgStart = 0;
    } else if (keepFrom > 64 * 1024) {
        m_in.remove(0, keepFrom);
        m_inPos -= keepFrom;
        m_msgStart = qMax<qsizetype>(0, m_msgStart - keepFrom);
    }
    m_processing = false;
}

bool VisitorConnection::onHeadComplete()
{
    m_headEnd = m_inPos;
    const http::RequestHead &head = m_parser.requestHead();
    const VisitorOptions &options = m_gateway->options();
    m_requestId = m_gateway->nextRequestId();
    m_startedMs = m_gateway->options().clock->monotonicMs();
    m_method = head.method;
    m_path = head.path;
    m_keepAlive = head.keepAlive && !m_gateway->shuttingDown();
    m_http10 = head.versionMajor == 1 && head.versionMinor == 0;
    m_dispatched = m_bodyComplete = m_requestDone = m_headSent = m_tunnelDone = m_answerClose = false;
    m_upload.reset();
    m_download.reset();

    const VisitorRouting decision = VisitorRouting::decide(head, m_http10, m_gateway->router(), options);
    if (decision.routed)
        m_route = decision.route;
    switch (decision.action) {
    case VisitorRouting::Action::Refuse:
        respondError(decision.status, decision.message, true);
        return false;
    case VisitorRouting::Action::ControlChannel:
        handOver();
        return false;
    case VisitorRouting::Action::Upgrade:
        dispatchToTunnel(tunnelRequest().upgrade(head, m_route, options), true);
        return false;
    case VisitorRouting::Action::ReadBody:
        break;
    }
    if (head.expectContinue && (head.contentLength > 0 || head.chunked)
        && m_socket->state() == QTcpSocket::ConnectedState)
        m_socket->write(QByteArrayLiteral("HTTP/1.1 100 Continue\r\n\r\n"));
    m_phase = Phase::ReadingBody;
    // The body is taken from the parser as it comes and counted here (chunked included); the parser
    // only must not refuse an announced length the routing accepted.
    m_parser.setMaxBodyBytes(options.maxRequestBodyBytes > 0 ? options.maxRequestBodyBytes
                                                             : std::numeric_limits<qint64>::max());
    arm(TimerPurpose::Body, options.requestTimeoutMs);
    return true;
}

void VisitorConnection::onMessageComplete()
{
    m_phase = Phase::AwaitingTunnel; // the next pipelined request stays unparsed
    m_bodyComplete = true;
    if (m_route.kind == HostRouter::Kind::Tunnel) {
        if (!m_dispatched)
            dispatchHttp(true);
        else
            pumpUpload();
        return;
    }
    m_timer.stop();
    switch (m_route.kind) {
    case HostRouter::Kind::ProxySelf:
        answerProxySelf();
        return;
    case HostRouter::Kind::UnknownHost:
        respondError(404, QStringLiteral("There is no tunnel named %1.").arg(m_route.hostName), false);
        return;
    case HostRouter::Kind::Tunnel:
        return;
    }
}

TunnelRequest VisitorConnection::tunnelRequest() const
{
    return TunnelRequest{m_requestId, m_peer, m_gateway->options().isTrustedProxy(m_socket->peerAddress()), m_tls};
}

void VisitorConnection::dispatchToTunnel(const protocol::Message &request, bool upgrade)
{
    const auto *http = std::get_if<protocol::HttpRequest>(&request);
    const bool bodyFollows = http && http->streamed && !m_bodyComplete;
    if (!bodyFollows)
        m_phase = Phase::AwaitingTunnel;
    // Registered before publishing: an in-memory bus may fail the exchange synchronously (429).
    m_gateway->registerPending(m_requestId, this);
    m_pendingOnBus = true;
    m_awaitingUpgrade = upgrade;
    m_dispatched = http != nullptr;
    // --request-timeout is the wait for the answer's head once the request is out; a body still
    // coming is bounded by the body idle timeout instead.
    if (bodyFollows || (http && http->streamed))
        arm(TimerPurpose::BodyIdle, m_gateway->options().bodyIdleTimeoutMs);
    else
        arm(TimerPurpose::Deadline, m_gateway->options().requestTimeoutMs);
    if (!m_gateway->bus()->publishToTunnel(m_route.label, request)) {
        m_awaitingUpgrade = false;
        m_tunnelDone = true;
        respondError(404,
                     QStringLiteral("The tunnel %1 is not online. If it is yours, start keyhole and try again.")
                         .arg(protocol::tunnelHostName(m_route.label, m_gateway->options().domain)),
                     upgrade);
    }
}

void VisitorConnection::answerProxySelf()
{
    VisitorResponse page = VisitorResponse::proxyPage(m_method, m_path, *m_gateway);
    if (page.status != 404) {
        respond(page.status, std::move(page.headers), page.body, false);
        return;
    }
    respondError(404,
                 QStringLiteral("Nothing here: this is the proxy's own host, and %1 is not one of its pages.")
                     .arg(QString::fromLatin1(m_path)),
                 false);
}

void VisitorConnection::answer(const protocol::HttpResponse &response)
{
    if (!m_dispatched || m_headSent || !m_pendingOnBus || response.id != m_requestId)
        return;
    if (response.streamed) {
        beginStreamedAnswer(response);
        return;
    }
    // A request body still on its way is cancelled by respond(); otherwise the tunnel is done with it.
    m_tunnelDone = m_requestDone;
    VisitorResponse answer = VisitorResponse::fromService(response, m_method);
    respond(answer.status, std::move(answer.headers), answer.body, false);
}

void VisitorConnection::fail(const ExchangeFailure &failure)
{
    if (!m_pendingOnBus || failure.id != m_requestId)
        return;
    m_tunnelDone = true; // the failure came from the tunnel's side, which has let go already
    if (m_headSent) {
        qCInfo(lcProxyHttp).noquote() << "request" << m_requestId << "cut mid-answer:" << failure.reason;
        abortConnection();
        return;
    }
    respondError(failure.status, failure.reason, false, failure.retryAfterSecs);
}

void VisitorConnection::respondError(int status, const QString &message, bool close, int retryAfterSecs)
{
    if (m_requestId.isEmpty())
        m_requestId = m_gateway->nextRequestId();
    VisitorResponse page = VisitorResponse::error(status, message, m_requestId, retryAfterSecs);
    if (status >= 500 || status == 429 || status == 413 || status == 431 || status == 414)
        qCInfo(lcProxyHttp).noquote() << "request" << m_requestId << "answered" << status << "by the proxy:" << message;
    respond(status, std::move(page.headers), page.body, close);
}

void VisitorConnection::respond(int status, protocol::HeaderList headers, const QByteArray &body, bool close)
{
    if (m_awaitingUpgrade) // the handshake bytes are still unread: this connection cannot go on
        close = true;
    if (m_phase == Phase::ReadingBody) // the rest of the request body is unread: no next request
        close = true;
    abandonUpgrade();
    cancelTunnel(QStringLiteral("the proxy answered the visitor itself"));
    if (m_pendingOnBus) {
        m_gateway->unregisterPending(m_requestId);
        m_pendingOnBus = false;
    }
    m_timer.stop();
    close = close || !m_keepAlive || m_closeWhenIdle || m_gateway->shuttingDown();

    qint64 bodyBytes = 0;
    // QByteArray is shared, not copied: the body is written from the caller's buffer.
    const QByteArray head = VisitorResponse{status, std::move(headers), body}.encodeHead(m_method, m_requestId, close,
                                                                                         m_http10, &bodyBytes);
    writeToVisitor({head, bodyBytes > 0 ? body : QByteArray()});
    finishExchange(status, bodyBytes, close);
}

void VisitorConnection::finishExchange(int status, qint64 bytes, bool close)
{
    const qint64 elapsedMs = m_startedMs >= 0 ? m_gateway->options().clock->monotonicMs() - m_startedMs : 0;
    m_gateway->metrics().countRequest(m_route.kind != HostRouter::Kind::Tunnel ? ProxyMetrics::RouteProxy
                                          : m_route.pathRouted                 ? ProxyMetrics::RoutePath
                                                                               : ProxyMetrics::RouteHost,
                                      status, double(elapsedMs) / 1000.0);
    logAccess(status, bytes, elapsedMs);
    m_requestId.clear();
    m_startedMs = -1;
    m_dispatched = m_bodyComplete = m_requestDone = m_headSent = m_tunnelDone = m_answerClose = false;
    m_upload.reset();
    m_download.reset();
    if (close) {
        lingerAndClose();
        return;
    }
    m_parser.reset();
    m_phase = Phase::Idle;
    if (unsentBytes() > 0) {
        // One answer in memory at a time: the next request waits until the visitor takes this one.
        arm(TimerPurpose::Send, m_gateway->options().sendTimeoutMs);
        return;
    }
    arm(TimerPurpose::Idle, m_gateway->options().idleTimeoutMs);
    // Pipelined requests may already be buffered here or in the socket.
    if (m_socket->bytesAvailable() > 0)
        readSocket();
    processInput();
}

// "<peer> <host> <method> <path> <status> <bytes> <ms>ms id=<id>", built as bytes: one per request.
void VisitorConnection::logAccess(int status, qint64 bytes, qint64 elapsedMs) const
{
    if (!lcProxyHttp().isInfoEnabled())
        return;
    QByteArray line;
    line.reserve(128 + std::min<qsizetype>(m_path.size(), 200));
    line += m_peer.toUtf8();
    line += ' ';
    util::appendLogSafe(line, m_route.hostName.toUtf8());
    line += ' ';
    util::appendLogSafe(line, m_method);
    line += ' ';
    util::appendLogSafe(line, m_path);
    line += ' ';
    line += QByteArray::number(status);
    line += ' ';
    line += QByteArray::number(bytes);
    line += ' ';
    line += QByteArray::number(elapsedMs);
    line += "ms id=";
    line += m_requestId;
    util::logInfoLine(lcProxyHttp(), line);
}

void VisitorConnection::arm(TimerPurpose purpose, int ms)
{
    m_timerPurpose = purpose;
    m_timer.start(ms);
}

void VisitorConnection::onTimeout()
{
    switch (m_timerPurpose) {
    case TimerPurpose::Send:
        qCInfo(lcProxyHttp).noquote() << "cutting visitor" << m_peer << "that took none of its" << unsentBytes()
                                      << "unsent answer bytes for" << m_gateway->options().sendTimeoutMs / 1000 << "s";
        [[fallthrough]];
    case TimerPurpose::Idle:
        m_phase = Phase::Closing;
        m_socket->abort();
        deleteLater(); // in case abort() had nothing to disconnect
        break;
    case TimerPurpose::Head:
    case TimerPurpose::Body:
        respondError(408, QStringLiteral("The request took too long to arrive."), true);
        break;
    case TimerPurpose::Deadline:
        respondError(504,
                     QStringLiteral("The tunnel's client did not answer within %1 seconds.")
                         .arg(m_gateway->options().requestTimeoutMs / 1000),
                     false);
        break;
    case TimerPurpose::BodyIdle:
        onBodyIdle();
        break;
    case TimerPurpose::None:
        break;
    }
}

void VisitorConnection::onDisconnected()
{
    m_timer.stop();
    if (m_pendingOnBus) {
        qCInfo(lcProxyHttp).noquote() << "visitor" << m_peer << "left before request" << m_requestId << "was answered";
        cancelTunnel(QStringLiteral("the visitor left"));
    }
    m_phase = Phase::Closing;
    deleteLater();
}

} // namespace keyhole::proxy
