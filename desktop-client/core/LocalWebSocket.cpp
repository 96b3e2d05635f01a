#include "LocalWebSocket.h"

#include "http/HeaderRules.h"
#include "http/HttpSyntax.h"
#include "protocol/Addressing.h"
#include "util/LogSafe.h"
#include "ClientLogging.h"
#include "websocket/WebSocketFrame.h"

#include "ServiceWebSocket.h"

namespace keyhole::client {

namespace {

constexpr int kCloseGraceMs = 5000;       // a local service that does not finish the close handshake is cut off
constexpr int kMaxCloseReasonBytes = 123; // RFC 6455 5.5: control frame payload minus the code

using http::isSafeHeaderValue;
using http::isSafeTarget;
using http::isToken;

// Headers the handshake writes itself (or that make no sense on a fresh handshake); Host is chosen
// apart (hostFor()).
bool isHandshakeHeader(const QByteArray &name)
{
    static const char *const names[] = {"Host",
                                        "Sec-WebSocket-Protocol",
                                        "Sec-WebSocket-Key",
                                        "Sec-WebSocket-Version",
                                        "Sec-WebSocket-Extensions",
                                        "Sec-WebSocket-Accept",
                                        "Upgrade",
                                        "Connection",
                                        "Content-Length",
                                        "Transfer-Encoding",
                                        "Expect"};
    for (const char *candidate : names) {
        if (http::headerNameEquals(name, candidate))
            return true;
    }
    return http::isHopByHop(name);
}

QString truncatedReason(QString reason)
{
    while (reason.toUtf8().size() > kMaxCloseReasonBytes)
        reason.chop(1);
    return reason;
}

QByteArray printable(const QByteArray &value)
{
    return util::logSafe(value);
}

} // namespace

LocalWebSocket::LocalWebSocket(const protocol::WsRequest &request, const Options &options, QObject *parent)
    : QObject(parent)
    , m_request(request)
    , m_options(options)
{
    m_timer.setSingleShot(true);
    connect(&m_timer, &QTimer::timeout, this, &LocalWebSocket::onTimer);
    m_record.kind = RequestRecord::Kind::WebSocket;
    m_record.id = request.id;
    m_record.method = QByteArrayLiteral("GET");
    m_record.path = request.path;
    m_record.query = request.query;
    m_record.remoteAddress = request.remoteAddress;
}

LocalWebSocket::~LocalWebSocket()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

int LocalWebSocket::normalizeCloseCode(int code)
{
    switch (code) {
    case websocket::CloseNoStatus:
        return websocket::CloseNormal;
    case websocket::CloseAbnormal:
        return websocket::CloseGoingAway;
    case 1015: // TLS failure (never sent, so not named): an error as far as the other end is concerned
        return websocket::CloseInternalError;
    default:
        break;
    }
    if (!websocket::isSendableCloseCode(code))
        return websocket::CloseNormal;
    return code;
}

QString LocalWebSocket::authority() const
{
    return protocol::hostAndPort(m_options.target);
}

QByteArray LocalWebSocket::hostFor(const QByteArray &visitorHost) const
{
    const QString &mode = m_options.hostHeader;
    if (mode == QLatin1String("rewrite"))
        return authority().toUtf8();
    if (!mode.isEmpty())
        return mode.toUtf8();
    return visitorHost.isEmpty() ? authority().toUtf8() : visitorHost;
}

void LocalWebSocket::open()
{
    if (m_phase != Phase::Idle)
        return;
    m_elapsed.start();
    m_record.startedAt = QDateTime::currentDateTimeUtc();
    m_phase = Phase::Connecting;

    const bool tls = m_options.target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    const QByteArray &path = m_request.path.isEmpty() ? QByteArrayLiteral("/") : m_request.path;
    bool valid = path.startsWith('/') && isSafeTarget(path) && isSafeTarget(m_request.query);
    QByteArray wire = (tls ? QByteArrayLiteral("wss://") : QByteArrayLiteral("ws://")) + authority().toUtf8() + path;
    if (!m_request.query.isEmpty())
        wire += '?' + m_request.query;
    m_url = QUrl::fromEncoded(wire, QUrl::StrictMode);
    valid = valid && m_url.isValid();

    // Repeated headers become one (QNetworkRequest keeps one value per name), in arrival order.
    protocol::HeaderList headers;
    QStringList subprotocols;
    QByteArray visitorHost;
    for (const auto &header : std::as_const(m_request.headers)) {
        if (!isToken(header.first) || !isSafeHeaderValue(header.second)) {
            valid = false;
            break;
        }
        if (http::headerNameEquals(header.first, "Host")) {
            if (visitorHost.isEmpty())
                visitorHost = header.second.trimmed();
            continue;
        }
        if (http::headerNameEquals(header.first, "Sec-WebSocket-Protocol")) {
            for (const QByteArray &part : header.second.split(',')) {
                const QString name = QString::fromLatin1(part.trimmed());
                if (isToken(part.trimmed()) && !subprotocols.contains(name))
                    subprotocols.append(name);
            }
            continue;
        }
        if (isHandshakeHeader(header.first))
            continue;
        bool merged = false;
        for (auto &existing : headers) {
            if (http::headerNameEquals(existing.first, header.first)) {
                existing.second += (http::headerNameEquals(header.first, "Cookie") ? "; " : ", ") + header.second;
                merged = true;
                break;
            }
        }
        if (!merged)
            headers.append(header);
    }
    if (!valid) {
        refuse(400, QStringLiteral("keyhole: the WebSocket request cannot be passed on to the local service"));
        return;
    }

    ServiceWebSocket::Request request;
    request.target = m_options.target;
    request.resource = path;
    if (!m_request.query.isEmpty())
        request.resource += '?' + m_request.query;
    request.host = hostFor(visitorHost);
    request.headers = headers;
    request.subprotocols = subprotocols;
    request.extraCaCertificates = m_options.extraCaCertificates;
    request.maxMessageBytes = qMax<qint64>(1, m_options.maxMessageBytes);
    m_record.requestHeaders = headers;
    m_record.requestHeaders.prepend({QByteArrayLiteral("Host"), request.host});
    if (!subprotocols.isEmpty())
        m_record.requestHeaders.append(
            {QByteArrayLiteral("Sec-WebSocket-Protocol"), subprotocols.join(QStringLiteral(", ")).toLatin1()});

    m_socket = new ServiceWebSocket(this);
    connect(m_socket, &ServiceWebSocket::connected, this, &LocalWebSocket::onConnected);
    connect(m_socket, &ServiceWebSocket::refused, this, &LocalWebSocket::refuseHandshake);
    connect(m_socket, &ServiceWebSocket::disconnected, this, &LocalWebSocket::onDisconnected);
    connect(m_socket, &ServiceWebSocket::messageReceived, this, &LocalWebSocket::onLocalMessage);

    qCDebug(lcForwarder, "WebSocket %s: opening %s", printable(m_request.id).constData(), qPrintable(m_url.toString()));
    m_timer.start(qMax(1, m_options.handshakeTimeoutMs));
    m_socket->open(request);
}

void LocalWebSocket::onConnected()
{
    if (m_phase != Phase::Connecting)
        return;
    m_timer.stop();
    m_phase = Phase::Open;
    protocol::WsResponse response;
    response.id = m_request.id;
    response.accepted = true;
    response.subprotocol = m_socket->subprotocol();
    response.status = 101;
    Q_EMIT responded(response);

    m_record.status = 101;
    m_record.subprotocol = response.subprotocol;
    m_record.wsEvent = RequestRecord::WsEvent::Opened;
    m_record.durationMs = m_elapsed.elapsed();
    Q_EMIT activity(m_record);

    // What the visitor sent before the service answered goes first, in order.
    while (!m_queue.empty() && m_phase == Phase::Open) {
        protocol::WsMessage message = std::move(m_queue.front());
        m_queue.pop_front();
        m_queuedBytes -= message.payload.size();
        sendToLocal(message);
    }
}

void LocalWebSocket::refuseHandshake()
{
    if (m_phase != Phase::Connecting)
        return;
    const int status = m_socket->refusedStatus();
    if (status >= 300 && status <= 599) {
        refuse(status,
               QStringLiteral("keyhole: the local service at %1 refused the WebSocket with HTTP %2")
                   .arg(authority())
                   .arg(status));
        return;
    }
    if (status != 0) {
        refuse(502,
               QStringLiteral("keyhole: the local service at %1 answered HTTP %2 instead of opening "
                              "the WebSocket")
                   .arg(authority())
                   .arg(status));
        return;
    }
    if (m_socket->socketError() == QAbstractSocket::ConnectionRefusedError) {
        refuse(502, QStringLiteral("keyhole: the local service at %1 refused the connection").arg(authority()));
        return;
    }
    refuse(502,
           QStringLiteral("keyhole: could not open a WebSocket to the local service at %1: %2")
               .arg(authority(), m_socket->errorString()));
}

void LocalWebSocket::onDisconnected()
{
    switch (m_phase) {
    case Phase::Connecting:
        refuseHandshake();
        return;
    case Phase::Open: {
        int code = m_socket->closeCode();
        QString reason = m_socket->closeReason();
        // No Close from the service: it went away, or the connection broke.
        if (code == websocket::CloseAbnormal) {
            if (m_socket->endedByError()) {
                code = websocket::CloseInternalError;
                reason = truncatedReason(m_socket->errorString());
            } else {
                code = websocket::CloseGoingAway;
                reason = QStringLiteral("going away");
            }
        }
        code = normalizeCloseCode(code);
        protocol::WsTeardown teardown;
        teardown.id = m_request.id;
        teardown.code = code;
        teardown.reason = reason;
        Q_EMIT tornDown(teardown);
        finish(code, reason);
        return;
    }
    case Phase::Closing:
        finish(m_record.closeCode, m_record.closeReason);
        return;
    case Phase::Idle:
    case Phase::Finished:
        return;
    }
}

void LocalWebSocket::onTimer()
{
    if (m_phase == Phase::Connecting) {
        refuse(504,
               QStringLiteral("keyhole: the local service at %1 did not answer the WebSocket handshake "
                              "within %2 s")
                   .arg(authority())
                   .arg(m_options.handshakeTimeoutMs / 1000.0, 0, 'g', 3));
    } else if (m_phase == Phase::Closing) {
        finish(m_record.closeCode, m_record.closeReason);
    }
}

void LocalWebSocket::onLocalMessage(const QByteArray &payload, bool binary)
{
    if (m_phase != Phase::Open)
        return;
    ++m_record.messagesOut;
    m_record.bytesOut += payload.size();
    protocol::WsMessage message;
    message.id = m_request.id;
    message.binary = binary;
    message.payload = payload;
    Q_EMIT messageForProxy(message);
}

void LocalWebSocket::deliver(const protocol::WsMessage &message)
{
    switch (m_phase) {
    case Phase::Idle:
    case Phase::Connecting:
        m_queue.push_back(message);
        m_queuedBytes += message.payload.size();
        if (m_queuedBytes > m_options.maxQueuedBytes)
            closeBoth(websocket::CloseTryAgainLater, QStringLiteral("try again later"));
        return;
    case Phase::Open:
        sendToLocal(message);
        return;
    case Phase::Closing:
    case Phase::Finished:
        return; // after a teardown nothing more counts
    }
}

void LocalWebSocket::sendToLocal(const protocol::WsMessage &message)
{
    ++m_record.messagesIn;
    m_record.bytesIn += message.payload.size();
    m_socket->sendMessage(message.payload, message.binary);
    // A service that does not read must not make us buffer without bound.
    if (m_socket->bytesToWrite() > m_options.maxQueuedBytes)
        closeBoth(websocket::CloseTryAgainLater, QStringLiteral("try again later"));
}

void LocalWebSocket::closeFromProxy(int code, const QString &reason)
{
    code = normalizeCloseCode(code);
    switch (m_phase) {
    case Phase::Idle:
    case Phase::Connecting:
        m_record.error = QStringLiteral("closed before the local service answered");
        finish(code, reason);
        return;
    case Phase::Open:
        closeLocal(code, reason);
        return;
    case Phase::Closing:
    case Phase::Finished:
        return;
    }
}

void LocalWebSocket::closeBoth(int code, const QString &reason)
{
    if (m_phase == Phase::Closing || m_phase == Phase::Finished)
        return;
    qCInfo(lcForwarder, "WebSocket %s %s: closing with %d (%s)", printable(m_request.id).constData(),
           printable(m_request.path).constData(), code, qPrintable(reason));
    protocol::WsTeardown teardown;
    teardown.id = m_request.id;
    teardown.code = code;
    teardown.reason = reason;
    Q_EMIT tornDown(teardown);
    if (m_phase == Phase::Open)
        closeLocal(code, reason);
    else
        finish(code, reason);
}

void LocalWebSocket::closeLocal(int code, const QString &reason)
{
    m_phase = Phase::Closing;
    m_record.closeCode = code;
    m_record.closeReason = reason;
    m_timer.start(kCloseGraceMs);
    m_socket->close(quint16(code), truncatedReason(reason));
}

void LocalWebSocket::refuse(int status, const QString &message)
{
    if (m_phase == Phase::Finished)
        return;
    qCInfo(lcForwarder, "WebSocket %s: %d %s", printable(m_request.path).constData(), status, qPrintable(message));
    protocol::WsResponse response;
    response.id = m_request.id;
    response.accepted = false;
    response.status = status;
    response.headers = {{QByteArrayLiteral("Content-Type"), QByteArrayLiteral("text/plain; charset=utf-8")}};
    response.body = message.toUtf8() + '\n';
    Q_EMIT responded(response);

    m_phase = Phase::Finished;
    m_record.wsEvent = RequestRecord::WsEvent::Refused;
    m_record.status = status;
    m_record.error = message;
    m_record.responseHeaders = response.headers;
    m_record.responseBodyPreview = response.body.left(RequestRecord::kPreviewBytes);
    m_record.durationMs = m_elapsed.isValid() ? m_elapsed.elapsed() : 0;
    Q_EMIT activity(m_record);
    finish(0, QString());
}

void LocalWebSocket::finish(int code, const QString &reason)
{
    const bool wasRefused = m_record.wsEvent == RequestRecord::WsEvent::Refused;
    m_phase = Phase::Finished;
    m_timer.stop();
    m_queue.clear();
    m_queuedBytes = 0;
    if (m_socket) {
        ServiceWebSocket *socket = m_socket;
        m_socket = nullptr;
        socket->disconnect(this);
        socket->abort();
        socket->deleteLater();
    }
    if (!wasRefused) {
        m_record.wsEvent = RequestRecord::WsEvent::Closed;
        m_record.closeCode = code;
        m_record.closeReason = reason;
        m_record.durationMs = m_elapsed.isValid() ? m_elapsed.elapsed() : 0;
        qCInfo(lcForwarder, "WebSocket %s closed %d after %lld ms, %lld/%lld messages, %lld/%lld bytes in/out",
               printable(m_request.path).constData(), code, static_cast<long long>(m_record.durationMs),
               static_cast<long long>(m_record.messagesIn), static_cast<long long>(m_record.messagesOut),
               static_cast<long long>(m_record.bytesIn), static_cast<long long>(m_record.bytesOut));
        Q_EMIT activity(m_record);
    }
    Q_EMIT finished();
}

} // namespace keyhole::client
