#include "crypto/RegistrationVerifier.h"

#include "crypto/Jws.h"
#include "crypto/KeyPair.h"
#include "crypto/Label.h"
#include "crypto/ReplayCache.h"
#include "util/Clock.h"

#include <QJsonObject>
#include <QJsonValue>
#include <QObject>
#include <QThread>
#include <QThreadPool>
#include <QUrl>

#include <cmath>
#include <optional>

namespace keyhole::crypto {

namespace {

constexpr qsizetype kThumbprintBytes = 32; // SHA-256; replay keys start with it
constexpr qsizetype kMinJtiChars = 8;
constexpr qsizetype kMaxJtiChars = 64;
// JSON numbers are doubles; beyond 2^53 they are no longer exact integers.
constexpr double kMaxExactInteger = 9007199254740992.0;

std::optional<qint64> integerClaim(const QJsonObject &claims, QLatin1String name)
{
    const QJsonValue value = claims.value(name);
    if (!value.isDouble())
        return std::nullopt;
    const double number = value.toDouble();
    if (!std::isfinite(number) || std::floor(number) != number || std::fabs(number) > kMaxExactInteger)
        return std::nullopt;
    return qint64(number);
}

bool isPrintableAscii(const QString &text)
{
    for (const QChar c : text) {
        if (c.unicode() < 0x21 || c.unicode() > 0x7e)
            return false;
    }
    return true;
}

} // namespace

RegistrationVerifier::RegistrationVerifier(QString expectedAudience, const util::Clock *clock,
                                           qsizetype maxRememberedTokens, int maxRememberedPerKey)
    : m_audience(normalizeAudience(expectedAudience))
    , m_clock(clock ? clock : util::Clock::system())
    , m_maxRemembered(maxRememberedTokens)
    , m_maxPerKey(maxRememberedPerKey)
{
}

QString RegistrationVerifier::normalizeAudience(const QString &audience)
{
    QUrl url(audience.trimmed(), QUrl::StrictMode);
    if (!url.isValid() || url.isRelative() || url.host().isEmpty())
        return {};
    const QString scheme = url.scheme().toLower();
    url.setScheme(scheme);
    url.setHost(url.host().toLower());
    const bool plain = scheme == QLatin1String("http") || scheme == QLatin1String("ws");
    const bool secure = scheme == QLatin1String("https") || scheme == QLatin1String("wss");
    if ((plain && url.port() == 80) || (secure && url.port() == 443))
        url.setPort(-1);
    QString path = url.path(QUrl::FullyEncoded);
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path, QUrl::TolerantMode);
    return url.toString(QUrl::FullyEncoded);
}

RegistrationVerifier::~RegistrationVerifier()
{
    // No worker may still be running when the receiver its answer is queued to goes.
    if (m_workers) {
        m_workers->clear();
        m_workers->waitForDone();
    }
}

RegistrationVerifier::SignatureCheck RegistrationVerifier::checkSignature(const QByteArray &token)
{
    SignatureCheck checked;
    checked.verified = Jws::verify(token, &checked.error, &checked.failure);
    return checked;
}

RegistrationVerifier::Result RegistrationVerifier::verify(const QByteArray &token, const KeyFilter &allowed)
{
    return checkClaims(checkSignature(token), allowed);
}

RegistrationVerifier::Result RegistrationVerifier::checkClaims(const SignatureCheck &checked, const KeyFilter &allowed)
{
    Result result;
    const auto refuse = [&result](Outcome outcome, const QString &reason) {
        result.outcome = outcome;
        result.error = reason;
        result.label.clear();
        return result;
    };

    const auto &verified = checked.verified;
    if (!verified)
        return refuse(checked.failure == Jws::Failure::BadSignature ? Outcome::BadSignature : Outcome::Malformed,
                      checked.error);
    result.thumbprint = verified->thumbprint;
    const QJsonObject &claims = verified->payload;

    const QJsonValue audience = claims.value(QLatin1String("aud"));
    if (!audience.isString())
        return refuse(Outcome::Malformed, QStringLiteral("aud must be a string"));
    const QString audienceNormal = normalizeAudience(audience.toString());
    if (m_audience.isEmpty() || audienceNormal.isEmpty() || audienceNormal != m_audience)
        return refuse(Outcome::WrongAudience, QStringLiteral("token is for another proxy"));

    const auto issuedAt = integerClaim(claims, QLatin1String("iat"));
    const auto expiresAt = integerClaim(claims, QLatin1String("exp"));
    if (!issuedAt || !expiresAt)
        return refuse(Outcome::Malformed, QStringLiteral("iat and exp must be integers"));
    if (*expiresAt <= *issuedAt || *expiresAt - *issuedAt > RegistrationToken::kLifetimeSecs)
        return refuse(Outcome::Malformed, QStringLiteral("token lifetime must be 1..60 seconds"));

    const qint64 now = m_clock->epochSecs();
    if (now > *expiresAt + kClockSkewSecs)
        return refuse(Outcome::Expired, QStringLiteral("token expired"));
    if (*issuedAt > now + kClockSkewSecs)
        return refuse(Outcome::NotYetValid, QStringLiteral("token issued in the future; check the clock"));

    const QJsonValue jtiValue = claims.value(QLatin1String("jti"));
    const QString jti = jtiValue.toString();
    if (!jtiValue.isString() || jti.size() < kMinJtiChars || jti.size() > kMaxJtiChars || !isPrintableAscii(jti))
        return refuse(Outcome::Malformed, QStringLiteral("jti must be 8..64 printable characters"));

    if (claims.contains(QLatin1String("name"))) {
        const QJsonValue nameValue = claims.value(QLatin1String("name"));
        if (!nameValue.isString() || !isValidTunnelName(nameValue.toString()))
            return refuse(Outcome::Malformed, QStringLiteral("invalid tunnel name"));
        result.name = nameValue.toString();
    }

    const QString label = labelForThumbprint(result.thumbprint, result.name);
    // Before anything is remembered: a key that may not register must cost us no memory.
    if (allowed && !allowed(result.thumbprint, label))
        return refuse(
            Outcome::Unauthorized,
            QStringLiteral("this key (%1) is not authorized on this proxy").arg(labelForThumbprint(result.thumbprint)));

    // Scoped by key, so nobody can use up another key's jti.
    const QByteArray replayKey = result.thumbprint + jti.toLatin1();
    forgetExpired(now);
    if (m_seenJti.contains(replayKey))
        return refuse(Outcome::Replayed, QStringLiteral("token already used"));
    // Per key first: one key cannot take the room that other keys need.
    if (m_perKey.value(result.thumbprint) >= m_maxPerKey)
        return refuse(Outcome::Busy, QStringLiteral("too many registrations with this key; try again shortly"));
    if (m_seenJti.size() >= m_maxRemembered)
        return refuse(Outcome::Busy, QStringLiteral("too many registrations; try again shortly"));
    const qint64 forgetAfter = *expiresAt + kClockSkewSecs;
    m_seenJti.insert(replayKey, forgetAfter);
    m_expiries.emplace(forgetAfter, replayKey);
    ++m_perKey[result.thumbprint];

    result.label = label;
    result.outcome = Outcome::Accepted;
    result.replayKey = replayKey;
    result.replayTtlSecs = qMax<qint64>(1, forgetAfter - now + 1);
    return result;
}

void RegistrationVerifier::verify(const QByteArray &token, const KeyFilter &allowed,
                                  std::function<void(const Result &)> done)
{
    if (!m_workers) {
        m_workers = std::make_unique<QThreadPool>();
        // One core stays with the event loop; the rest may verify.
        m_workers->setMaxThreadCount(qMax(1, QThread::idealThreadCount() - 1));
        m_receiver = std::make_unique<QObject>();
    }
    if (m_queuedChecks >= kMaxQueuedChecks) {
        remember(verify(token, allowed), std::move(done));
        return;
    }
    ++m_queuedChecks;
    QObject *receiver = m_receiver.get();
    m_workers->start([this, receiver, token, allowed, done = std::move(done)]() mutable {
        auto checked = std::make_shared<SignatureCheck>(checkSignature(token));
        KeyPair::releaseThreadState();
        QMetaObject::invokeMethod(
            receiver,
            [this, checked, allowed = std::move(allowed), done = std::move(done)]() mutable {
                --m_queuedChecks;
                remember(checkClaims(*checked, allowed), std::move(done));
            },
            Qt::QueuedConnection);
    });
}

void RegistrationVerifier::remember(Result result, std::function<void(const Result &)> done)
{
    if (!result.accepted() || !m_shared) {
        done(result);
        return;
    }
    m_shared->remember(result.replayKey, result.replayTtlSecs,
                       [result, done = std::move(done)](ReplayCache::Verdict verdict) mutable {
                           if (verdict == ReplayCache::Verdict::Replayed) {
                               result.outcome = Outcome::Replayed;
                               result.error = QStringLiteral("token already used");
                               result.label.clear();
                           }
                           done(result);
                       });
}

void RegistrationVerifier::forgetExpired(qint64 nowSecs)
{
    // A token stays acceptable while now <= exp + skew, so it must be remembered until then.
    auto it = m_expiries.begin();
    while (it != m_expiries.end() && it->first < nowSecs) {
        m_seenJti.remove(it->second);
        const QByteArray thumbprint = it->second.left(kThumbprintBytes);
        auto count = m_perKey.find(thumbprint);
        if (count != m_perKey.end() && --*count <= 0)
            m_perKey.erase(count);
        it = m_expiries.erase(it);
    }
}

} // namespace keyhole::crypto
