#include "visitors/VisitorConnection.h"

#include "http/HeaderRules.h"
#include "http/HttpWriter.h"
#include "visitors/VisitorHost.h"
#include "visitors/VisitorLogging.h"
#include "visitors/VisitorOptions.h"
#include "visitors/VisitorResponse.h"

#include <QTcpSocket>

// VisitorConnection, continued: streamed bodies. A request body goes to the client as the visitor
// sends it, within the window the client's HttpCredit keeps open; a streamed answer is written to
// the visitor as each HttpBody arrives, with credit granted back as the visitor's kernel takes it.

namespace keyhole::proxy {

bool VisitorConnection::publish(const protocol::Message &message)
{
    return m_gateway->bus()->publishToTunnel(m_route.label, message);
}

bool VisitorConnection::takeRequestBody()
{
    const QByteArray bytes = m_parser.takeBody();
    if (bytes.isEmpty())
        return true;
    m_upload.take(bytes, m_route.kind == HostRouter::Kind::Tunnel);
    const qint64 max = m_gateway->options().maxRequestBodyBytes;
    if (max > 0 && m_upload.total() > max) {
        failExchange(413, QStringLiteral("The request body is larger than this proxy accepts (%1 bytes).").arg(max));
        return false;
    }
    if (m_dispatched) {
        armBodyIdle();
        pumpUpload();
    }
    return true;
}

void VisitorConnection::dispatchHttp(bool bodyComplete)
{
    // Complete and small: one message, as in protocol 1. Anything else is streamed, its first bytes
    // riding in the head.
    const bool inlineBody = bodyComplete && m_upload.held() <= protocol::kInlineBodyBytes;
    protocol::HttpRequest request = tunnelRequest().http(m_parser.requestHead(), m_upload.takeFirst(), m_route,
                                                         m_gateway->options());
    request.streamed = !inlineBody;
    m_requestDone = inlineBody;
    dispatchToTunnel(request, false);
    if (m_dispatched && !m_requestDone)
        pumpUpload();
}

void VisitorConnection::pumpUpload()
{
    const QByteArray id = m_requestId;
    while (m_dispatched && !m_requestDone && m_requestId == id) {
        const QByteArray data = m_upload.next();
        const bool end = m_bodyComplete && m_upload.held() == 0;
        if (data.isEmpty() && !end)
            return; // the window is full, or the visitor has sent nothing more yet
        if (end)
            m_requestDone = true;
        if (!publish(protocol::HttpBody{id, data, end})) {
            m_tunnelDone = true;
            failExchange(502, QStringLiteral("The tunnel went away while the request body was being sent."));
            return;
        }
        // The bus may have answered synchronously (cancel): the exchange is then over.
        if (end && m_requestId == id && !m_headSent && m_pendingOnBus)
            arm(TimerPurpose::Deadline, m_gateway->options().requestTimeoutMs);
    }
}

void VisitorConnection::creditUpload(const protocol::HttpCredit &credit)
{
    if (credit.id != m_requestId || !m_dispatched || m_requestDone || m_phase == Phase::Closing)
        return;
    const QByteArray id = m_requestId;
    m_upload.credited(credit.bytes);
    armBodyIdle();
    pumpUpload();
    if (m_requestId != id || m_phase != Phase::ReadingBody || !m_socket)
        return;
    // Room again: parse what was read ahead, then read the socket on.
    if (m_inPos < m_in.size())
        processInput();
    if (m_socket && m_phase == Phase::ReadingBody && m_socket->bytesAvailable() > 0)
        onReadyRead();
}

void VisitorConnection::beginStreamedAnswer(const protocol::HttpResponse &response)
{
    VisitorResponse answer = VisitorResponse::fromService(response, m_method);
    if (http::responseHasNoBody(m_method, response.status)) {
        // HEAD, 204, 304 have no body whatever the client streams: the head alone, and the client stops.
        cancelTunnel(QStringLiteral("this answer has no body"));
        respond(answer.status, std::move(answer.headers), {}, false);
        return;
    }
    const qint64 length = ResponseStream::announcedLength(http::headerValue(response.headers, "Content-Length"));
    const ResponseStream::Framing framing = ResponseStream::framingFor(length, m_http10);
    // A request body still coming is never read to its end: this connection serves no other request.
    m_answerClose = !m_keepAlive || m_closeWhenIdle || m_gateway->shuttingDown()
        || framing == ResponseStream::Framing::UntilClose || m_phase == Phase::ReadingBody;
    m_answerStatus = answer.status;
    const QByteArray head = answer.encodeStreamHead(m_requestId, m_answerClose, m_http10, framing, length);
    m_headSent = true;
    m_download.begin(framing, length);
    if (m_socket->state() == QTcpSocket::ConnectedState)
        m_socket->write(head);
    armBodyIdle();
    if (!response.body.isEmpty())
        answerBody(protocol::HttpBody{m_requestId, response.body, false});
}

void VisitorConnection::answerBody(const protocol::HttpBody &body)
{
    if (!m_download.active() || body.id != m_requestId || m_phase == Phase::Closing)
        return;
    QString why;
    if (!m_download.receive(body.data.size(), &why)) {
        qCWarning(lcProxyHttp).noquote() << "request" << m_requestId << "cut:" << why;
        failExchange(502, why);
        return;
    }
    if (!body.data.isEmpty() && m_socket->state() == QTcpSocket::ConnectedState)
        m_socket->write(m_download.frame(body.data));
    if (body.end) {
        finishStreamedAnswer();
        return;
    }
    armBodyIdle();
    grantCredit();
}

void VisitorConnection::finishStreamedAnswer()
{
    bool complete = false;
    const QByteArray tail = m_download.finish(&complete);
    m_tunnelDone = m_requestDone; // the client is done; a request body still coming is cancelled
    if (!complete) {
        // Shorter than its Content-Length: the visitor must see a truncated answer, not a short one.
        qCInfo(lcProxyHttp).noquote() << "request" << m_requestId << "cut: the answer ended before its Content-Length";
        cancelTunnel(QStringLiteral("the answer ended early"));
        abortConnection();
        return;
    }
    if (!tail.isEmpty() && m_socket->state() == QTcpSocket::ConnectedState)
        m_socket->write(tail);
    cancelTunnel(QStringLiteral("the answer ended before the request body"));
    m_gateway->unregisterPending(m_requestId);
    m_pendingOnBus = false;
    m_timer.stop();
    // A shutdown that began while the answer streamed closes the connection once it is out.
    finishExchange(m_answerStatus, m_download.total(),
                   m_answerClose || m_phase == Phase::ReadingBody || m_closeWhenIdle || m_gateway->shuttingDown());
}

void VisitorConnection::grantCredit()
{
    if (!m_download.active() || m_phase == Phase::Closing)
        return;
    const qint64 due = m_download.creditDue(unsentBytes());
    if (due > 0)
        publish(protocol::HttpCredit{m_requestId, due});
}

void VisitorConnection::armBodyIdle()
{
    const bool uploading = m_dispatched && !m_requestDone;
    if (!uploading && !m_download.active())
        return; // the wait for the head (--request-timeout) is not extended by anything
    const VisitorOptions &options = m_gateway->options();
    // A visitor that takes none of its answer is cut after the send timeout, like any other.
    const bool visitorStalled = m_download.active() && unsentBytes() > 0;
    arm(TimerPurpose::BodyIdle,
        visitorStalled ? qMin(options.sendTimeoutMs, options.bodyIdleTimeoutMs) : options.bodyIdleTimeoutMs);
}

void VisitorConnection::onBodyIdle()
{
    if (m_download.active() && unsentBytes() > 0) {
        qCInfo(lcProxyHttp).noquote() << "cutting visitor" << m_peer << "that took none of its" << unsentBytes()
                                      << "unsent answer bytes";
        cancelTunnel(QStringLiteral("the visitor stopped reading"));
        abortConnection();
        return;
    }
    const QString message =
        QStringLiteral("The body moved no byte for %1 seconds.").arg(m_gateway->options().bodyIdleTimeoutMs / 1000);
    // Before the answer: the visitor stopped sending (408), or the client stopped taking (504).
    failExchange(m_upload.room() > 0 ? 408 : 504, message);
}

void VisitorConnection::cancelled(const protocol::HttpCancel &cancel)
{
    if (cancel.id != m_requestId || !m_dispatched || !m_pendingOnBus || m_phase == Phase::Closing)
        return;
    m_tunnelDone = true;
    qCInfo(lcProxyHttp).noquote() << "request" << m_requestId << "cancelled by the tunnel:" << cancel.reason;
    failExchange(502, QStringLiteral("The tunnel's client gave up on the request: %1").arg(cancel.reason));
}

void VisitorConnection::failExchange(int status, const QString &message)
{
    cancelTunnel(message);
    if (m_headSent) {
        // The visitor has a head and part of a body: only a cut connection tells it the body is short.
        qCInfo(lcProxyHttp).noquote() << "request" << m_requestId << "cut mid-answer:" << message;
        abortConnection();
        return;
    }
    respondError(status, message, status == 400 || status == 413 || m_phase == Phase::ReadingBody);
}

void VisitorConnection::cancelTunnel(const QString &reason)
{
    if (!m_dispatched || !m_pendingOnBus || m_tunnelDone)
        return;
    m_tunnelDone = true;
    publish(protocol::HttpCancel{m_requestId, reason});
}

void VisitorConnection::abortConnection()
{
    m_phase = Phase::Closing;
    m_timer.stop();
    m_timerPurpose = TimerPurpose::None;
    m_download.reset();
    if (m_socket)
        m_socket->abort();
    deleteLater();
}

} // namespace keyhole::proxy
