#include "TunnelClient.h"

#include "LocalForwarder.h"
#include "LocalTraffic.h"
#include "LocalWebSocketBridge.h"
#include "TunnelHostname.h"
#include "crypto/RegistrationToken.h"
#include "protocol/Codec.h"
#include "protocol/Overloaded.h"
#include "util/Clock.h"
#include "ClientLogging.h"
#include "websocket/WebSocketChannel.h"
#include "websocket/WebSocketConnector.h"

#include <utility>
#include <variant>

namespace keyhole::client {

namespace {

constexpr int kGracefulCloseMs = 3000;

bool isRefusalCode(const QByteArray &code)
{
    return code == protocol::Goodbye::CodeUnauthorized || code == protocol::Goodbye::CodeBadToken
        || code == protocol::Goodbye::CodeClockSkew;
}

// A refusal that a later attempt can overcome: the proxy says so, or (from a proxy that does not say)
// the code is one that never concerns this key or token.
bool isRetryableRefusal(const protocol::RegistrationResponse &response)
{
    return response.retry || response.code == protocol::Goodbye::CodeBusy
        || response.code == protocol::Goodbye::CodeShutdown;
}

} // namespace

TunnelClient::TunnelClient(const ClientSettings &settings, crypto::KeyPair key, QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_key(std::move(key))
    , m_clock(util::Clock::system())
{
    m_retryTimer.setSingleShot(true);
    connect(&m_retryTimer, &QTimer::timeout, this, &TunnelClient::openSocket);
    m_watchdog.setSingleShot(true);
    connect(&m_watchdog, &QTimer::timeout, this, &TunnelClient::onWatchdog);
    m_traffic = new LocalTraffic(this);
    // What the local side says goes out on the current control connection; retireSocket() ends
    // every exchange and WebSocket, so nothing of theirs reaches a later one.
    connect(m_traffic, &LocalTraffic::messageForProxy, this,
            [this](const protocol::Message &message) { send(message); });
    connect(m_traffic, &LocalTraffic::requestFinished, this, &TunnelClient::onLocalRecord);
    connect(m_traffic, &LocalTraffic::requestFinished, this, &TunnelClient::requestFinished);
    connect(m_traffic, &LocalTraffic::webSocketActivity, this, &TunnelClient::webSocketActivity);
    loadCaCertificates();
    rebuildForwarder();
}

TunnelClient::~TunnelClient()
{
    m_traffic->disconnect(this);
    if (m_connector) {
        m_connector->disconnect(this);
        m_connector->abort();
    }
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

LocalForwarder *TunnelClient::forwarder() const
{
    return m_traffic->forwarder();
}

LocalWebSocketBridge *TunnelClient::webSockets() const
{
    return m_traffic->webSockets();
}

QString TunnelClient::label() const
{
    return m_key ? TunnelHostname::label(*m_key, m_settings.name) : QString();
}

QString TunnelClient::predictedHostname() const
{
    return predictedHostname(m_settings.name, m_settings.proxyUrl);
}

QString TunnelClient::predictedHostname(const QString &name, const QUrl &proxyUrl) const
{
    return m_key ? TunnelHostname::predict(*m_key, name, proxyUrl) : QString();
}

void TunnelClient::setClock(const util::Clock *clock)
{
    m_clock = clock ? clock : util::Clock::system();
}

void TunnelClient::applySettings(const ClientSettings &settings)
{
    if (settings == m_settings)
        return;
    m_settings = settings;
    loadCaCertificates();
    rebuildForwarder();
    m_hostRefusal.reset();
    setLocalProblem(QString());
    if (m_wanted) {
        retireSocket(true);
        m_backoff.reset();
        openSocket();
    }
}

void TunnelClient::setKey(crypto::KeyPair key)
{
    m_key = std::move(key);
    if (m_wanted) {
        retireSocket(true);
        m_backoff.reset();
        openSocket();
    }
}

void TunnelClient::loadCaCertificates()
{
    m_caCertificates.clear();
    if (m_settings.caFile.isEmpty())
        return;
    m_caCertificates = QSslCertificate::fromPath(m_settings.caFile, QSsl::Pem);
    if (m_caCertificates.isEmpty())
        m_caCertificates = QSslCertificate::fromPath(m_settings.caFile, QSsl::Der);
    if (m_caCertificates.isEmpty())
        qCWarning(lcClient, "no certificate found in %s", qPrintable(m_settings.caFile));
}

void TunnelClient::rebuildForwarder()
{
    m_traffic->configure(m_settings, m_caCertificates, m_info);
}

void TunnelClient::onLocalRecord(const RequestRecord &record)
{
    if (record.serviceUnreachable) {
        QString problem = record.error;
        if (problem.startsWith(QLatin1String("keyhole: ")))
            problem.remove(0, 9);
        setLocalProblem(problem);
        return;
    }
    if (!record.error.isEmpty() || record.status == 0)
        return; // the exchange failed for its own reasons; says nothing about the service
    setLocalProblem(QString());
    if (m_settings.hostHeader.isEmpty() && m_hostRefusal.feed(record.status, record.responseBodyPreview)) {
        const QString description = m_hostRefusal.description(m_settings.targetAuthority());
        qCWarning(lcClient, "%s", qPrintable(description));
        Q_EMIT localHostRefused(description);
    }
}

void TunnelClient::setLocalProblem(const QString &problem)
{
    if (problem == m_localProblem)
        return;
    if (problem.isEmpty())
        qCInfo(lcClient, "the local service at %s answers again", qPrintable(m_settings.targetAuthority()));
    else
        qCWarning(lcClient, "the local service is not answering: %s", qPrintable(problem));
    m_localProblem = problem;
    Q_EMIT localServiceChanged(problem);
}

void TunnelClient::setState(ClientState state)
{
    if (m_state == state)
        return;
    qCDebug(lcClient, "state %s -> %s", clientStateName(m_state), clientStateName(state));
    m_state = state;
    Q_EMIT stateChanged(state);
}

void TunnelClient::start()
{
    if (m_wanted && m_state != ClientState::WaitingToReconnect)
        return;
    m_wanted = true;
    m_stopping = false;
    m_backoff.reset();
    openSocket();
}

void TunnelClient::stop()
{
    m_wanted = false;
    m_stopping = true;
    m_retryTimer.stop();
    m_watchdog.stop();
    m_nextRetry = {};
    m_problem = ConnectionProblem();
    if (m_socket && m_socket->isOpen()) {
        protocol::Goodbye goodbye;
        goodbye.code = protocol::Goodbye::CodeClientExit;
        goodbye.reason = QStringLiteral("the client is shutting down");
        send(goodbye);
    }
    retireSocket(true);
    setState(ClientState::Offline);
    // close() may already have finished (and emitted stopped()) synchronously.
    if (m_stopping && m_closingSockets == 0) {
        m_stopping = false;
        QMetaObject::invokeMethod(this, &TunnelClient::stopped, Qt::QueuedConnection);
    }
}

void TunnelClient::reconnectNow()
{
    if (!m_wanted)
        return;
    // A live or starting connection proves itself (or the watchdog ends it); only skip the wait.
    if (m_state == ClientState::WaitingToReconnect) {
        m_retryTimer.stop();
        openSocket();
    }
}

void TunnelClient::openSocket()
{
    retireSocket(false);
    m_retryTimer.stop();
    m_nextRetry = {};
    if (!m_key) {
        Q_EMIT errorOccurred(QStringLiteral("no key loaded"));
        return;
    }

    const quint64 generation = ++m_generation;
    websocket::WebSocketConnector::Options options;
    options.url = m_settings.subscribeUrl();
    options.userAgent = QByteArrayLiteral("keyhole/" KEYHOLE_VERSION);
    options.extraCaCertificates = m_caCertificates;
    options.timeoutMs = m_watchdogMs;
    options.peerName = QStringLiteral("the proxy");
    auto *connector = new websocket::WebSocketConnector(options, this);
    m_connector = connector;
    connect(connector, &websocket::WebSocketConnector::succeeded, this,
            [this, connector, generation](websocket::WebSocketChannel *channel) {
                m_connector = nullptr;
                connector->deleteLater();
                onConnected(channel, generation);
            });
    connect(connector, &websocket::WebSocketConnector::failed, this, [this, connector](const QString &why) {
        m_connector = nullptr;
        connector->deleteLater();
        const ConnectionProblem problem = ConnectionProblem::classify(connector->failure(), connector->httpStatus(),
                                                                      why, m_settings.proxyUrl);
        if (problem.isLasting() && problem.kind != m_problem.kind)
            qCWarning(lcClient, "%s: %s", qPrintable(problem.sentence), qPrintable(problem.advice));
        m_problem = problem;
        onSocketLost(why);
    });

    qCInfo(lcClient, "connecting to %s", qPrintable(options.url.toString()));
    setState(ClientState::Connecting);
    // The watchdog also bounds the connect and the TLS and WebSocket handshakes.
    m_watchdog.start(m_watchdogMs);
    connector->open();
}

void TunnelClient::onConnected(websocket::WebSocketChannel *channel, quint64 generation)
{
    using websocket::WebSocketChannel;
    m_socket = channel;
    channel->setMaxIncomingMessageBytes(qint64(kMaxIncomingMessageBytes));
    channel->setCloseTimeout(kGracefulCloseMs);
    // Every handler checks that the socket is still the current one: old sockets may still talk.
    auto current = [this, channel, generation] { return channel == m_socket && generation == m_generation; };
    connect(channel, &WebSocketChannel::disconnected, this, [this, current, channel] {
        if (!current())
            return;
        if (!channel->closeReason().isEmpty())
            onSocketLost(channel->closeReason());
        else if (!channel->errorString().isEmpty())
            onSocketLost(channel->errorString());
        else
            onSocketLost(QStringLiteral("the proxy closed the connection"));
    });
    connect(channel, &WebSocketChannel::errorOccurred, this, [this, current, channel] {
        if (current())
            onSocketLost(channel->errorString());
    });
    connect(channel, &WebSocketChannel::binaryMessageReceived, this, [this, current](const QByteArray &frame) {
        if (current())
            onBinaryMessage(frame);
    });
    connect(channel, &WebSocketChannel::textMessageReceived, this, [this, current](const QString &) {
        if (current())
            protocolError(QStringLiteral("text frame on the control channel"));
    });

    setState(ClientState::Registering);
    m_watchdog.start(m_watchdogMs);
    protocol::RegistrationRequest request;
    request.token = crypto::RegistrationToken::create(*m_key, m_settings.audience(), m_settings.name,
                                                      m_clock->epochSecs());
    if (request.token.isEmpty()) {
        Q_EMIT errorOccurred(QStringLiteral("could not sign the registration"));
        retireSocket(false);
        scheduleReconnect();
        return;
    }
    send(request);
}

void TunnelClient::onSocketLost(const QString &why)
{
    if (m_state != ClientState::Connecting) {
        // A connection that worked and went: a passing loss (the connector classified its own failures).
        m_problem = ConnectionProblem{ConnectionProblem::Kind::Transient, why, QString(), why};
    }
    if (m_state == ClientState::Connecting)
        qCWarning(lcClient, "could not connect to the proxy: %s", qPrintable(why));
    else
        qCWarning(lcClient, "connection to the proxy lost: %s", qPrintable(why));
    Q_EMIT errorOccurred(why);
    retireSocket(false);
    if (m_wanted)
        scheduleReconnect();
    else if (m_state != ClientState::Refused && m_state != ClientState::Replaced)
        setState(ClientState::Offline);
}

void TunnelClient::onWatchdog()
{
    if (!m_socket && !m_connector)
        return;
    const QString why = m_state == ClientState::Connecting
        ? QStringLiteral("could not connect to the proxy within %1 s").arg(m_watchdogMs / 1000.0)
        : QStringLiteral("nothing heard from the proxy for %1 s").arg(m_watchdogMs / 1000.0);
    qCWarning(lcClient, "%s; reconnecting", qPrintable(why));
    m_problem = ConnectionProblem{ConnectionProblem::Kind::Transient, why, QString(), why};
    Q_EMIT errorOccurred(why);
    retireSocket(false);
    scheduleReconnect();
}

void TunnelClient::onBinaryMessage(const QByteArray &frame)
{
    m_watchdog.start(m_watchdogMs);
    const protocol::DecodeResult result = protocol::Codec::decode(frame);
    if (!result) {
        protocolError(result.error);
        return;
    }
    if (result.version != protocol::kProtocolVersion) {
        refuseVersion(result.version);
        return;
    }
    handle(*result.message);
}

// Only a registration answer or a Goodbye can arrive in another version (their layout is the same in
// every version): the proxy is older or newer than this client, and no retry will change that.
void TunnelClient::refuseVersion(int proxyVersion)
{
    const QString reason =
        QStringLiteral("the proxy speaks Keyhole protocol %1 and this client speaks %2: update the %3")
            .arg(proxyVersion)
            .arg(protocol::kProtocolVersion)
            .arg(proxyVersion < protocol::kProtocolVersion ? QStringLiteral("proxy") : QStringLiteral("client"));
    qCCritical(lcClient, "registration refused: %s", qPrintable(reason));
    retireSocket(true);
    enterTerminal(ClientState::Refused);
    Q_EMIT refused(reason, protocol::Goodbye::CodeVersion);
}

void TunnelClient::handle(const protocol::Message &message)
{
    using namespace protocol;
    // Every message type is named here: a new one is a compile error until this decides about it.
    const auto unexpected = [&message] {
        qCWarning(lcClient, "ignoring unexpected %s from the proxy", messageTypeName(messageType(message)));
    };
    std::visit(Overloaded{
                   [this](const RegistrationResponse &response) { handleRegistration(response); },
                   [this](const HttpRequest &request) { m_traffic->forwarder()->forward(request); },
                   [this](const HttpBody &body) { m_traffic->forwarder()->deliverBody(body); },
                   [this](const HttpCredit &credit) { m_traffic->forwarder()->credit(credit); },
                   [this](const HttpCancel &cancel) { m_traffic->forwarder()->cancel(cancel); },
                   [this](const Ping &ping) { send(Pong{ping.nonce}); },
                   [this](const Goodbye &goodbye) { handleGoodbye(goodbye); },
                   [this](const WsRequest &request) { m_traffic->webSockets()->open(request); },
                   [this](const WsMessage &wsMessage) { m_traffic->webSockets()->deliver(wsMessage); },
                   [this](const WsTeardown &teardown) { m_traffic->webSockets()->teardown(teardown); },
                   [](const Pong &) {}, // no pings of ours outstanding
                   // What only a client sends, or only answers to it.
                   [&unexpected](const RegistrationRequest &) { unexpected(); },
                   [&unexpected](const HttpResponse &) { unexpected(); },
                   [&unexpected](const WsResponse &) { unexpected(); },
               },
               message);
}

void TunnelClient::handleRegistration(const protocol::RegistrationResponse &response)
{
    if (m_state != ClientState::Registering) {
        qCWarning(lcClient, "ignoring a RegistrationResponse outside registration");
        return;
    }
    if (!response.accepted) {
        const QString reason = response.reason.isEmpty() ? QStringLiteral("no reason given") : response.reason;
        if (isRetryableRefusal(response)) {
            qCWarning(lcClient, "registration refused for now: %s (%s); trying again later", qPrintable(reason),
                      response.code.constData());
            Q_EMIT errorOccurred(QStringLiteral("registration refused for now: %1").arg(reason));
            retireSocket(true);
            scheduleReconnect();
            return;
        }
        qCCritical(lcClient, "registration refused: %s (%s)", qPrintable(reason), response.code.constData());
        retireSocket(true);
        enterTerminal(ClientState::Refused);
        Q_EMIT refused(reason, response.code);
        return;
    }
    m_info.hostname = response.hostname;
    m_info.publicUrl = response.publicUrl;
    m_info.label = response.label;
    m_info.maxRequestBodyBytes = response.maxRequestBodyBytes;
    m_info.maxResponseBodyBytes = response.maxResponseBodyBytes;
    m_info.requestTimeoutMs = response.requestTimeoutMs;
    m_backoff.reset();
    m_problem = ConnectionProblem();
    m_traffic->setLimits(m_info);
    if (!response.label.isEmpty() && response.label != label())
        qCWarning(lcClient, "the proxy registered label %s, expected %s", qPrintable(response.label),
                  qPrintable(label()));
    qCInfo(lcClient, "registered as %s", qPrintable(response.publicUrl));
    setState(ClientState::Online);
    Q_EMIT registered(m_info);
}

void TunnelClient::handleGoodbye(const protocol::Goodbye &goodbye)
{
    qCInfo(lcClient, "the proxy said goodbye: %s (%s)", qPrintable(goodbye.reason), goodbye.code.constData());
    if (goodbye.code == protocol::Goodbye::CodeReplaced) {
        retireSocket(true);
        enterTerminal(ClientState::Replaced);
        Q_EMIT errorOccurred(QStringLiteral("another client with the same key took over this tunnel"));
        return;
    }
    if (m_state == ClientState::Registering && isRefusalCode(goodbye.code)) {
        const QString reason = goodbye.reason.isEmpty() ? QString::fromLatin1(goodbye.code) : goodbye.reason;
        retireSocket(true);
        enterTerminal(ClientState::Refused);
        Q_EMIT refused(reason, goodbye.code);
        return;
    }
    // "shutdown" and everything else: come back later.
    retireSocket(true);
    scheduleReconnect();
}

void TunnelClient::protocolError(const QString &why)
{
    qCWarning(lcClient, "protocol error from the proxy: %s; reconnecting", qPrintable(why));
    Q_EMIT errorOccurred(QStringLiteral("protocol error: %1").arg(why));
    protocol::Goodbye goodbye;
    goodbye.code = protocol::Goodbye::CodeProtocolError;
    goodbye.reason = why.left(200);
    send(goodbye);
    retireSocket(true);
    scheduleReconnect();
}

bool TunnelClient::send(const protocol::Message &message)
{
    if (!m_socket)
        return false;
    // In parts: a large body is masked straight from the message into the frame, not copied first.
    const protocol::EncodedFrame frame = protocol::Codec::encodeParts(message);
    return m_socket->sendBinaryMessageParts({frame.head, frame.body, frame.tail});
}

void TunnelClient::scheduleReconnect()
{
    if (!m_wanted)
        return;
    m_watchdog.stop();
    const qint64 delay = m_backoff.nextDelayMs();
    m_nextRetry = QDateTime::currentDateTimeUtc().addMSecs(delay);
    qCInfo(lcClient, "reconnecting in %.1f s", delay / 1000.0);
    m_retryTimer.start(static_cast<int>(delay));
    setState(ClientState::WaitingToReconnect);
    Q_EMIT nextRetryAt(m_nextRetry);
}

void TunnelClient::enterTerminal(ClientState state)
{
    m_wanted = false;
    m_retryTimer.stop();
    m_watchdog.stop();
    m_nextRetry = {};
    setState(state);
}

void TunnelClient::retireSocket(bool graceful)
{
    if (!m_socket && !m_connector)
        return;
    // Exchanges and local WebSockets live only as long as the control connection they came through.
    m_traffic->closeAll();
    ++m_generation;
    m_watchdog.stop();
    if (websocket::WebSocketConnector *connector = std::exchange(m_connector, nullptr)) {
        connector->disconnect(this);
        connector->abort();
        connector->deleteLater();
    }
    websocket::WebSocketChannel *socket = std::exchange(m_socket, nullptr);
    if (!socket)
        return;
    socket->disconnect(this);
    if (!graceful || !socket->isOpen()) {
        socket->abort();
        socket->deleteLater();
        return;
    }
    // Let the close frame (and a Goodbye before it) reach the proxy before the socket goes; the
    // channel aborts a closing handshake that takes longer than kGracefulCloseMs.
    ++m_closingSockets;
    connect(socket, &websocket::WebSocketChannel::disconnected, this, [this, socket] {
        socket->disconnect(this);
        socket->deleteLater();
        if (--m_closingSockets == 0 && m_stopping) {
            m_stopping = false;
            Q_EMIT stopped();
        }
    });
    socket->close(websocket::CloseNormal);
}

} // namespace keyhole::client
