#include "tunnels/TunnelSession.h"

#include "crypto/Label.h"
#include "crypto/RegistrationVerifier.h"
#include "http/HeaderRules.h"
#include "protocol/Addressing.h"
#include "protocol/Codec.h"
#include "protocol/Overloaded.h"
#include "tunnels/AuthorizedKeys.h"
#include "tunnels/TunnelRegistry.h"
#include "util/Clock.h"
#include "tunnels/TunnelLogging.h"
#include "websocket/WebSocketChannel.h"

#include <QPointer>
#include <QTimerEvent>

#include <algorithm>
#include <climits>
#include <cmath>
#include <cstdlib>

namespace keyhole::proxy {

namespace {
// Room for the envelope, headers (DecodeLimits::maxHeaderBytes) and strings around the largest body
// or payload one message may carry.
constexpr qint64 kFrameOverhead = 512 * 1024;
// A peer that never answers the closing handshake is cut off after this.
constexpr int kCloseTimeoutMs = 5000;

} // namespace

TunnelSession::TunnelSession(websocket::WebSocketChannel *socket, const TunnelContext &context, QObject *parent)
    : QObject(parent)
    , m_socket(socket)
    , m_context(context)
{
    m_socket->setParent(this);
    // Bodies stream in chunks: a frame holds at most an inline body, a chunk or a WebSocket message,
    // whatever the body limits are.
    m_decodeLimits.maxBodyBytes = std::max(
        {protocol::kInlineBodyBytes, protocol::kBodyChunkBytes, context.options.maxWsMessageBytes});
    const qint64 maxFrame = m_decodeLimits.maxBodyBytes + kFrameOverhead;
    m_socket->setMaxIncomingMessageBytes(maxFrame);
    m_socket->setCloseTimeout(kCloseTimeoutMs);
    m_socket->setSendTimeout(context.options.sendTimeoutMs);
    m_lastHeardMs = context.clock->monotonicMs();

    using websocket::WebSocketChannel;
    connect(m_socket, &WebSocketChannel::binaryMessageReceived, this, &TunnelSession::onBinaryMessage);
    connect(m_socket, &WebSocketChannel::textMessageReceived, this, &TunnelSession::onTextMessage);
    connect(m_socket, &WebSocketChannel::disconnected, this, &TunnelSession::onDisconnected);
    connect(m_socket, &WebSocketChannel::pong, this, [this] { m_lastHeardMs = m_context.clock->monotonicMs(); });
    // Visitor WebSockets paused for this tunnel's congestion may be read again.
    connect(m_socket, &WebSocketChannel::outputDrained, this, [this] {
        if (m_state == State::Online && !congested())
            Q_EMIT m_context.bus->flowResumed();
    });

    m_timerPeriodMs = context.options.registrationTimeoutMs;
    m_timer.start(m_timerPeriodMs, this);
    qCDebug(lcProxyTunnel) << "control channel from" << m_socket->peerAddress().toString();
}

TunnelSession::~TunnelSession()
{
    if (!m_label.isEmpty())
        m_context.registry->release(m_label, this);
    failAllPending(QStringLiteral("The tunnel's client went away before answering."));
}

void TunnelSession::deliverToTunnel(const protocol::Message &message)
{
    if (m_state != State::Online)
        return;
    using namespace protocol;
    // One handler per message type: a new type is a compile error here until it is handled.
    std::visit(Overloaded{
                   [this, &message](const HttpRequest &request) {
                       if (request.streamed && m_streams.size() >= m_context.options.maxPendingPerTunnel) {
                           ++m_context.metrics->refused[ProxyMetrics::RefusedBodies];
                           m_context.bus->failVisitorExchange(
                               {request.id, 503, QStringLiteral("This tunnel has too many bodies in flight."), 1});
                           return;
                       }
                       if (!admit(request.id, false))
                           return;
                       if (request.streamed) {
                           m_streams.insert(request.id, {true, false, 0, 0, m_context.clock->monotonicMs()});
                           watchStreams();
                       }
                       sendOrFail(request.id, message);
                   },
                   [this, &message](const WsRequest &upgrade) {
                       if (admit(upgrade.id, true))
                           sendOrFail(upgrade.id, message);
                   },
                   [this, &message](const WsMessage &ws) {
                       // Not counted against the request rate: a web terminal sends thousands a second. Opening
                       // the socket was one request; its bytes count against --ws-rate.
                       if (!m_webSockets.contains(ws.id))
                           return;
                       chargeWebSocketBytes(ws.payload.size());
                       // Visitors stop being read while the channel is congested, so this is reached only past
                       // the channel's hard bound: the socket is closed rather than a message silently lost.
                       if (!send(message))
                           tearDownBoth(ws.id, websocket::CloseTryAgainLater,
                                        QStringLiteral("the tunnel's client is not keeping up"));
                   },
                   [this, &message](const WsTeardown &teardown) {
                       // Also for an upgrade still in flight: the client must not open a socket nobody waits for.
                       const bool known = m_webSockets.remove(teardown.id) || m_upgrades.remove(teardown.id);
                       m_pending.remove(teardown.id);
                       if (known)
                           send(message);
                   },
                   // What only a client sends, or never crosses the bus: nothing for the tunnel.
                   [](const HttpResponse &) {},
                   [](const WsResponse &) {},
                   [](const RegistrationRequest &) {},
                   [](const RegistrationResponse &) {},
                   [](const Ping &) {},
                   [](const Pong &) {},
                   [](const Goodbye &) {},
                   [this, &message](const HttpBody &body) { requestBodyToClient(body, message); },
                   [this, &message](const HttpCredit &credit) { creditToClient(credit, message); },
                   [this](const HttpCancel &cancel) { cancelFromVisitor(cancel); },
               },
               message);
}

bool TunnelSession::congested() const
{
    return m_state == State::Online && (m_wsThrottled || m_socket->isCongested());
}

void TunnelSession::chargeWebSocketBytes(qint64 bytes)
{
    if (!m_wsBytes)
        return;
    // A message larger than a second's worth costs a second's worth: it still passes, once.
    const double cost = std::min(double(bytes), m_wsBytes->burst());
    if (m_wsThrottled) {
        m_wsBytesOwed += cost; // sent by a visitor that had not seen the pause yet
        return;
    }
    if (m_wsBytes->tryTake(cost))
        return;
    m_wsThrottled = true;
    m_wsBytesOwed = cost;
    m_throttleTimer.start(int(std::clamp<qint64>(m_wsBytes->msUntilAvailable(cost), 1, 60'000)), this);
}

void TunnelSession::onThrottleEnd()
{
    const double due = std::min(m_wsBytesOwed, m_wsBytes->burst());
    if (!m_wsBytes->tryTake(due)) {
        m_throttleTimer.start(int(std::clamp<qint64>(m_wsBytes->msUntilAvailable(due), 1, 60'000)), this);
        return;
    }
    m_throttleTimer.stop();
    m_wsThrottled = false;
    m_wsBytesOwed = 0;
    if (!congested())
        Q_EMIT m_context.bus->flowResumed();
}

void TunnelSession::applyLimits(const TunnelOptions &options)
{
    m_context.options.rateLimitPerSec = options.rateLimitPerSec;
    m_context.options.rateBurst = options.rateBurst;
    m_context.options.wsBytesPerSec = options.wsBytesPerSec;
    m_context.options.maxPendingPerTunnel = options.maxPendingPerTunnel;
    m_context.options.maxWebSocketsPerTunnel = options.maxWebSocketsPerTunnel;
    if (m_state != State::Online)
        return; // registration reads them from m_context
    m_rateLimiter = m_context.bus->rateLimiterFor(m_label, options.rateLimitPerSec, options.rateBurst, m_context.clock);
    if (options.wsBytesPerSec > 0) {
        const double rate = double(options.wsBytesPerSec);
        m_wsBytes = std::make_unique<util::TokenBucket>(rate, rate, m_context.clock);
    } else if (m_wsBytes) {
        m_wsBytes.reset();
        m_throttleTimer.stop();
        const bool wasThrottled = m_wsThrottled;
        m_wsThrottled = false;
        m_wsBytesOwed = 0;
        if (wasThrottled && !congested())
            Q_EMIT m_context.bus->flowResumed();
    }
}

bool TunnelSession::admit(const QByteArray &id, bool isUpgrade)
{
    if (!m_rateLimiter->tryAcquire()) {
        ++m_context.metrics->rateLimited;
        const int retryAfter = int(std::ceil(m_rateLimiter->retryAfterMs() / 1000.0));
        m_context.bus->failVisitorExchange(
            {id, 429, QStringLiteral("This tunnel is receiving too many requests; try again shortly."),
             qMax(1, retryAfter)});
        return false;
    }
    if (isUpgrade && m_webSockets.size() + m_upgrades.size() >= m_context.options.maxWebSocketsPerTunnel) {
        ++m_context.metrics->refused[ProxyMetrics::RefusedWebSockets];
        m_context.bus->failVisitorExchange({id, 503, QStringLiteral("This tunnel has too many open WebSockets."), 5});
        return false;
    }
    if (m_pending.size() >= m_context.options.maxPendingPerTunnel) {
        // Forget requests whose visitors have long been given 504, then check again.
        const qint64 cutoff = m_context.clock->monotonicMs() - m_context.options.requestTimeoutMs;
        for (auto it = m_pending.begin(); it != m_pending.end();) {
            if (it.value() < cutoff && !m_streams.contains(it.key())) { // an upload may take long
                m_upgrades.remove(it.key());
                it = m_pending.erase(it);
            } else {
                ++it;
            }
        }
        if (m_pending.size() >= m_context.options.maxPendingPerTunnel) {
            ++m_context.metrics->refused[ProxyMetrics::RefusedPending];
            m_context.bus->failVisitorExchange(
                {id, 503, QStringLiteral("This tunnel has too many requests in flight."), 1});
            return false;
        }
    }
    m_pending.insert(id, m_context.clock->monotonicMs());
    if (isUpgrade)
        m_upgrades.insert(id);
    return true;
}

void TunnelSession::tearDownBoth(const QByteArray &id, int code, const QString &reason)
{
    m_webSockets.remove(id);
    send(protocol::WsTeardown{id, code, reason});
    m_context.bus->replyToVisitor(id, protocol::WsTeardown{id, code, reason});
}

void TunnelSession::onBinaryMessage(const QByteArray &frame)
{
    m_lastHeardMs = m_context.clock->monotonicMs();
    protocol::DecodeResult decoded = protocol::Codec::decode(frame, m_decodeLimits);
    if (!decoded) {
        qCWarning(lcProxyTunnel).noquote()
            << "tunnel" << (m_label.isEmpty() ? QStringLiteral("(unregistered)") : m_label)
            << "sent a malformed frame:" << decoded.error;
        closeWith(protocol::Goodbye::CodeProtocolError, QStringLiteral("malformed frame: ") + decoded.error,
                  websocket::CloseProtocolError);
        return;
    }
    protocol::Message &message = *decoded.message;
    if (m_state == State::AwaitingRegistration) {
        if (decoded.version != protocol::kProtocolVersion) {
            refuseVersion(decoded.version);
            return;
        }
        if (const auto *registration = std::get_if<protocol::RegistrationRequest>(&message)) {
            onRegistration(*registration);
            return;
        }
        closeWith(protocol::Goodbye::CodeProtocolError, QStringLiteral("register first"),
                  websocket::CloseProtocolError);
        return;
    }
    if (m_state != State::Online)
        return;

    using namespace protocol;
    const auto unexpected = [this, &message] {
        closeWith(Goodbye::CodeProtocolError,
                  QStringLiteral("unexpected %1").arg(QLatin1String(messageTypeName(messageType(message)))),
                  websocket::CloseProtocolError);
    };
    // One handler per message type: a new type is a compile error here until it is handled. The
    // WebSocket handlers move `message` on to the visitor once they are done with its alternative.
    std::visit(Overloaded{
                   [this](HttpResponse &response) { onHttpResponse(response); },
                   [this](const Ping &ping) { send(Pong{ping.nonce}); },
                   [](const Pong &) {}, // m_lastHeardMs is all a pong is for
                   [this](const Goodbye &goodbye) {
                       qCInfo(lcProxyTunnel).noquote()
                           << "tunnel" << m_label << "says goodbye:" << goodbye.code << goodbye.reason;
                       m_socket->close(websocket::CloseNormal, QStringLiteral("goodbye"));
                   },
                   [this, &message](const WsResponse &response) {
                       if (!m_upgrades.remove(response.id)) // only answers to upgrades this session was given
                           return;
                       m_pending.remove(response.id);
                       if (response.accepted)
                           m_webSockets.insert(response.id);
                       const QByteArray id = response.id;
                       m_context.bus->replyToVisitor(id, std::move(message));
                   },
                   [this, &message](const WsMessage &ws) {
                       if (!m_webSockets.contains(ws.id))
                           return;
                       if (ws.payload.size() > m_context.options.maxWsMessageBytes) {
                           tearDownBoth(ws.id, websocket::CloseTooBig, QStringLiteral("message too big"));
                           return;
                       }
                       const QByteArray id = ws.id;
                       m_context.bus->replyToVisitor(id, std::move(message));
                   },
                   [this, &message](const WsTeardown &teardown) {
                       if (!m_webSockets.remove(teardown.id))
                           return;
                       const QByteArray id = teardown.id;
                       m_context.bus->replyToVisitor(id, std::move(message));
                   },
                   // What only the proxy sends, or a second registration:
                   [&unexpected](const RegistrationRequest &) { unexpected(); },
                   [this](HttpBody &body) { responseBodyFromClient(body); },
                   [this](HttpCredit &credit) { creditFromClient(credit); },
                   [this](HttpCancel &cancel) { cancelFromClient(cancel); },
                   [&unexpected](const RegistrationResponse &) { unexpected(); },
                   [&unexpected](const HttpRequest &) { unexpected(); },
                   [&unexpected](const WsRequest &) { unexpected(); },
               },
               message);
}

void TunnelSession::onTextMessage(const QString &)
{
    closeWith(protocol::Goodbye::CodeProtocolError, QStringLiteral("text frames are not part of the protocol"),
              websocket::CloseUnsupportedData);
}

void TunnelSession::onHttpResponse(protocol::HttpResponse &response)
{
    // Only answers to requests this session was given: a client must not answer for another tunnel.
    if (!m_pending.remove(response.id)) {
        qCDebug(lcProxyTunnel) << "tunnel" << m_label << "answered unknown or expired request" << response.id;
        return;
    }
    const QByteArray id = response.id;
    const auto refuse = [this, &response, &id](const QString &reason) {
        // The client may still be sending (or reading the service's) body: it stops too.
        if (response.streamed || m_streams.contains(id))
            send(protocol::HttpCancel{id, reason});
        m_streams.remove(id);
        m_context.bus->failVisitorExchange({id, 502, reason});
    };
    const qint64 maxResponse = m_context.options.maxResponseBodyBytes;
    bool lengthOk = true;
    const qint64 announced = http::headerValue(response.headers, "Content-Length").toLongLong(&lengthOk);
    if (maxResponse > 0 && (response.body.size() > maxResponse || (lengthOk && announced > maxResponse))) {
        refuse(QStringLiteral("The local service's response is larger than this proxy accepts (%1 bytes).")
                   .arg(maxResponse));
        return;
    }
    if (response.status < 100 || response.status > 999) {
        refuse(QStringLiteral("The tunnel gave an invalid status."));
        return;
    }
    if (response.streamed && response.body.size() > protocol::kStreamWindowBytes) {
        refuse(QStringLiteral("The tunnel's client sent more than the stream window."));
        return;
    }
    if (response.streamed) {
        TunnelStream &stream = m_streams[id];
        stream.responseOpen = true;
        stream.responseInFlight = response.body.size();
        stream.responseBytes = response.body.size();
        stream.lastMovedMs = m_context.clock->monotonicMs();
        watchStreams();
    } else {
        settle(id); // a request body may still be streaming: its entry stays until it ends
    }
    m_context.bus->replyToVisitor(id, std::move(response));
}

void TunnelSession::timerEvent(QTimerEvent *event)
{
    if (event->timerId() == m_timer.timerId())
        onHeartbeat();
    else if (event->timerId() == m_throttleTimer.timerId())
        onThrottleEnd();
    else
        QObject::timerEvent(event);
}

void TunnelSession::onHeartbeat()
{
    if (m_state == State::AwaitingRegistration || m_state == State::Verifying) {
        closeWith(protocol::Goodbye::CodeRegistrationTimeout, QStringLiteral("no registration in time"),
                  websocket::ClosePolicyViolated);
        return;
    }
    const qint64 now = m_context.clock->monotonicMs();
    // A coarse timer may fire a little early (it is rounded to share wake-ups with others).
    const qint64 slack = m_context.options.pingIntervalMs / 20;
    if (now - m_lastHeardMs >= m_context.options.tunnelTimeoutMs - slack) {
        qCInfo(lcProxyTunnel).noquote() << "tunnel" << m_label << "silent for" << (now - m_lastHeardMs) / 1000
                                        << "s: dropped";
        closeWith(protocol::Goodbye::CodeIdle, QStringLiteral("no traffic"), websocket::CloseGoingAway);
        return;
    }
    cutIdleStreams(now);
    if (m_state != State::Online)
        return;
    if (now - qMax(m_lastHeardMs, m_lastPingMs) >= m_pingAfterMs - slack) {
        m_lastPingMs = now;
        send(protocol::Ping{++m_pingNonce});
    }
    scheduleHeartbeat(now, true);
}

void TunnelSession::scheduleHeartbeat(qint64 nowMs, bool justFired)
{
    qint64 due = qMin(qMax(m_lastHeardMs, m_lastPingMs) + m_pingAfterMs,
                      m_lastHeardMs + m_context.options.tunnelTimeoutMs);
    if (!m_streams.isEmpty())
        due = qMin(due, nowMs + streamCheckPeriodMs());
    armHeartbeat(due, nowMs, justFired);
}

void TunnelSession::armHeartbeat(qint64 dueMs, qint64 nowMs, bool justFired)
{
    const int delayMs = int(std::clamp<qint64>(dueMs - nowMs, 0, INT_MAX));
    // An idle tunnel's timer is due again one period after it fired (it pinged, the answer came at
    // once): the running timer repeats on its own then, without being stopped and started.
    if (justFired && m_timer.isActive()
        && std::abs(delayMs - m_timerPeriodMs) <= m_context.options.pingIntervalMs / 20) {
        m_timerDueMs = nowMs + m_timerPeriodMs;
        return;
    }
    m_timerDueMs = dueMs;
    m_timerPeriodMs = delayMs;
    m_timer.start(delayMs, Qt::CoarseTimer, this);
}

void TunnelSession::watchStreams()
{
    const qint64 now = m_context.clock->monotonicMs();
    if (m_state == State::Online && m_timerDueMs > now + streamCheckPeriodMs())
        armHeartbeat(now + streamCheckPeriodMs(), now, false);
}

int TunnelSession::streamCheckPeriodMs() const
{
    return qMax(500, m_context.options.pingIntervalMs / 2);
}

void TunnelSession::replaced()
{
    closeWith(protocol::Goodbye::CodeReplaced, QStringLiteral("another client registered this hostname"),
              websocket::CloseNormal);
}

void TunnelSession::shutdown()
{
    closeWith(protocol::Goodbye::CodeShutdown, QStringLiteral("the proxy is shutting down"), websocket::CloseGoingAway);
}

bool TunnelSession::send(const protocol::Message &message)
{
    if (m_state == State::Closed)
        return false;
    // A teardown is small and sent at most once per WebSocket (a cancel once per exchange, a credit
    // at most once per chunk the client sent): it goes out even past the channel's bound, or the
    // client would keep a local socket open that nobody is served by, or wait for credit for ever.
    if (std::holds_alternative<protocol::WsTeardown>(message) || std::holds_alternative<protocol::HttpCancel>(message)
        || std::holds_alternative<protocol::HttpCredit>(message))
        return m_socket->sendBinaryMessageEvenIfFull(protocol::Codec::encode(message, m_peerVersion));
    // In parts: a large body goes to the socket as the message holds it, not copied into the frame.
    const protocol::EncodedFrame frame = protocol::Codec::encodeParts(message, m_peerVersion);
    return m_socket->sendBinaryMessageParts({frame.head, frame.body, frame.tail});
}

void TunnelSession::sendOrFail(const QByteArray &id, const protocol::Message &message)
{
    if (send(message))
        return;
    m_pending.remove(id);
    m_upgrades.remove(id);
    m_streams.remove(id);
    ++m_context.metrics->refused[ProxyMetrics::RefusedClientSlow];
    m_context.bus->failVisitorExchange(
        {id, 503, QStringLiteral("This tunnel's client is not keeping up; try again shortly."), 1});
}

void TunnelSession::closeWith(const char *goodbyeCode, const QString &reason, int closeCode)
{
    if (m_state == State::Closed)
        return;
    send(protocol::Goodbye{goodbyeCode, reason});
    m_state = State::Closed;
    m_timer.stop();
    m_throttleTimer.stop();
    if (!m_label.isEmpty()) {
        m_context.registry->release(m_label, this);
    }
    failAllPending(QStringLiteral("The tunnel's client disconnected before answering."));
    m_socket->close(quint16(closeCode), reason.left(120)); // aborted after kCloseTimeoutMs
}

void TunnelSession::failAllPending(const QString &reason)
{
    // 502 for requests and upgrades in flight; open WebSockets close with 1001 (going away).
    const auto pending = std::exchange(m_pending, {});
    m_upgrades.clear();
    for (auto it = pending.cbegin(); it != pending.cend(); ++it)
        m_context.bus->failVisitorExchange({it.key(), 502, reason});
    // Streamed exchanges past their head: the visitor's connection is cut (its body is truncated).
    const auto streams = std::exchange(m_streams, {});
    for (auto it = streams.cbegin(); it != streams.cend(); ++it) {
        if (!pending.contains(it.key()))
            m_context.bus->failVisitorExchange({it.key(), 502, reason});
    }
    const auto webSockets = std::exchange(m_webSockets, {});
    for (const QByteArray &id : webSockets)
        m_context.bus->failVisitorExchange({id, 502, reason});
}

void TunnelSession::onDisconnected()
{
    if (m_state == State::Online)
        qCInfo(lcProxyTunnel).noquote() << "tunnel" << m_label << "disconnected after" << m_onlineSince.elapsed() / 1000
                                        << "s";
    m_state = State::Closed;
    m_timer.stop();
    m_throttleTimer.stop();
    if (!m_label.isEmpty())
        m_context.registry->release(m_label, this);
    failAllPending(QStringLiteral("The tunnel's client disconnected before answering."));
    deleteLater();
}

} // namespace keyhole::proxy
