#include "tunnels/TunnelSession.h"

#include "crypto/Label.h"
#include "protocol/Addressing.h"
#include "protocol/Codec.h"
#include "tunnels/AuthorizedKeys.h"
#include "tunnels/TunnelLogging.h"
#include "tunnels/TunnelRegistry.h"
#include "util/Clock.h"
#include "websocket/WebSocketChannel.h"

#include <QPointer>
#include <QRandomGenerator>

// TunnelSession, continued: registration (the verifier's answer, the limits the client is told, and
// the refusal of a client of another protocol version).

namespace keyhole::proxy {

namespace {
const char *goodbyeCodeFor(crypto::RegistrationVerifier::Outcome outcome)
{
    using Outcome = crypto::RegistrationVerifier::Outcome;
    switch (outcome) {
    case Outcome::Expired:
    case Outcome::NotYetValid:
        return protocol::Goodbye::CodeClockSkew;
    case Outcome::Unauthorized:
        return protocol::Goodbye::CodeUnauthorized;
    case Outcome::Busy:
        return protocol::Goodbye::CodeBusy;
    default:
        return protocol::Goodbye::CodeBadToken;
    }
}
} // namespace

void TunnelSession::onRegistration(const protocol::RegistrationRequest &request)
{
    // The replay check may ask the instances' shared cache: the answer can come later.
    m_state = State::Verifying;
    QPointer<TunnelSession> self(this);
    // The key is checked inside the verifier, before its token id is remembered anywhere, so keys
    // that may not register cannot fill the replay caches.
    crypto::RegistrationVerifier::KeyFilter allowed;
    if (const AuthorizedKeys *keys = m_context.authorizedKeys) {
        allowed = [keys](const QByteArray &thumbprint, const QString &label) {
            return keys->contains(crypto::labelForThumbprint(thumbprint)) || keys->contains(label);
        };
    }
    m_context.verifier->verify(request.token, allowed, [self](const crypto::RegistrationVerifier::Result &result) {
        if (self && self->m_state == State::Verifying)
            self->completeRegistration(result);
    });
}

// A client of another protocol version is told so in its own version's words: the registration
// messages and Goodbye have the same layout in every version.
void TunnelSession::refuseVersion(int clientVersion)
{
    const QString reason =
        QStringLiteral("this client speaks Keyhole protocol %1 and this proxy speaks %2: update the %3")
            .arg(clientVersion)
            .arg(protocol::kProtocolVersion)
            .arg(clientVersion < protocol::kProtocolVersion ? QStringLiteral("client") : QStringLiteral("proxy"));
    qCWarning(lcProxyTunnel).noquote() << "registration from" << m_socket->peerAddress().toString()
                                       << "refused:" << reason;
    m_peerVersion = clientVersion;
    ++m_context.metrics->registrations[ProxyMetrics::RegistrationVersion];
    protocol::RegistrationResponse response;
    response.reason = reason;
    response.code = protocol::Goodbye::CodeVersion;
    send(response);
    closeWith(protocol::Goodbye::CodeVersion, reason, websocket::ClosePolicyViolated);
}

void TunnelSession::completeRegistration(const crypto::RegistrationVerifier::Result &result)
{
    m_state = State::AwaitingRegistration;
    static_assert(int(crypto::RegistrationVerifier::Outcome::Busy) == ProxyMetrics::RegistrationBusy);
    ++m_context.metrics->registrations[int(result.outcome)];
    protocol::RegistrationResponse response;
    if (!result.accepted()) {
        qCWarning(lcProxyTunnel).noquote()
            << "registration from" << m_socket->peerAddress().toString() << "refused:" << result.error;
        response.reason = result.error;
        response.code = goodbyeCodeFor(result.outcome);
        response.retry = result.retryable();
        send(response);
        closeWith(response.code, result.error,
                  response.retry ? websocket::CloseTryAgainLater : websocket::ClosePolicyViolated);
        return;
    }

    m_label = result.label;
    m_rateLimiter = m_context.bus->rateLimiterFor(m_label, m_context.options.rateLimitPerSec,
                                                  m_context.options.rateBurst, m_context.clock);
    if (m_context.options.wsBytesPerSec > 0) {
        const double rate = double(m_context.options.wsBytesPerSec);
        m_wsBytes = std::make_unique<util::TokenBucket>(rate, rate, m_context.clock);
    }
    m_state = State::Online;
    m_onlineSince.start();
    m_context.registry->claim(m_label, this);

    QUrl url = m_context.publicUrl;
    url.setHost(protocol::tunnelHostName(m_label, m_context.options.domain));
    response.accepted = true;
    response.label = m_label;
    response.hostname = url.host();
    response.publicUrl = url.toString();
    response.maxRequestBodyBytes = m_context.options.maxRequestBodyBytes;
    response.maxResponseBodyBytes = m_context.options.maxResponseBodyBytes;
    response.requestTimeoutMs = m_context.options.requestTimeoutMs;
    send(response);
    qCInfo(lcProxyTunnel).noquote() << "tunnel online:" << response.publicUrl << "from"
                                    << m_socket->peerAddress().toString();

    const int interval = m_context.options.pingIntervalMs;
    m_pingAfterMs = interval + int(QRandomGenerator::global()->bounded(interval / 2 + 1));
    scheduleHeartbeat(m_context.clock->monotonicMs(), false);
}

} // namespace keyhole::proxy
