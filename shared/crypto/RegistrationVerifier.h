#pragma once

#include "crypto/RegistrationToken.h"

#include <QByteArray>
#include <QHash>
#include <QString>

#include <functional>
#include <map>

namespace keyhole::util {
class Clock;
}

namespace keyhole::crypto {

class ReplayCache;

// Proxy side of registration: signature, audience (always our own public URL, never a Host a
// request claims), time window with 60 s of skew, and a jti seen only once. The replay cache is
// bounded; a full cache refuses new tokens instead of forgetting ones that could still be replayed.
class RegistrationVerifier
{
public:
    static constexpr qint64 kClockSkewSecs = 60;
    static constexpr qsizetype kMaxRememberedTokens = 200000;

    enum class Outcome { Accepted, Malformed, BadSignature, WrongAudience, Expired, NotYetValid, Replayed, Busy };

    struct Result {
        Outcome outcome = Outcome::Malformed;
        QString label;         // the hostname label (name applied), when accepted
        QByteArray thumbprint; // raw 32 bytes, when the signature was good
        QString name;
        QString error;         // human-readable reason when refused
        QByteArray replayKey;  // thumbprint + jti: what a shared replay cache remembers
        qint64 replayTtlSecs = 0;

        bool accepted() const { return outcome == Outcome::Accepted; }
    };

    // maxRememberedTokens only exists so tests can fill the replay cache; production uses the default.
    RegistrationVerifier(QString expectedAudience, const util::Clock *clock,
                         qsizetype maxRememberedTokens = kMaxRememberedTokens);

    Result verify(const QByteArray &token);
    // The same, then also asks the shared replay cache when there is one: `done` may run later.
    void verify(const QByteArray &token, std::function<void(const Result &)> done);
    // Not owned; must outlive the verifier. Null: only the in-memory cache.
    void setSharedReplayCache(ReplayCache *cache) { m_shared = cache; }

    // The form in which audiences are compared: scheme and host lowercased, default port and
    // trailing '/' dropped. Empty when `audience` is not an absolute URL with a host.
    static QString normalizeAudience(const QString &audience);

private:
    void forgetExpired(qint64 nowSecs);

    QString m_audience; // normalised
    const util::Clock *m_clock;
    qsizetype m_maxRemembered;
    ReplayCache *m_shared = nullptr;
    QHash<QByteArray, qint64> m_seenJti;         // jti -> time after which it cannot be replayed
    std::multimap<qint64, QByteArray> m_expiries; // for pruning in time order
};

} // namespace keyhole::crypto
