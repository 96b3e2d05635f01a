#pragma once

#include "crypto/Jws.h"
#include "crypto/RegistrationToken.h"

#include <QByteArray>
#include <QHash>
#include <QString>

#include <functional>
#include <map>
#include <memory>
#include <optional>

class QObject;
class QThreadPool;

namespace keyhole::util {
class Clock;
}

namespace keyhole::crypto {

class ReplayCache;

// Proxy side of registration: signature, audience (always our own public URL, never a Host a
// request claims), time window with 60 s of skew, the key allowed (when the proxy has a list), and a
// jti seen only once. A jti is remembered only once the key is known to be allowed, so keys that may
// not register cannot fill the replay cache. The cache is bounded per key and in total; a full cache
// refuses new tokens (Busy, worth retrying) instead of forgetting ones that could still be replayed.
class RegistrationVerifier
{
public:
    static constexpr qint64 kClockSkewSecs = 60;
    static constexpr qsizetype kMaxRememberedTokens = 200000;
    // A token is remembered for at most 3 minutes (iat up to 60 s ahead, 60 s lifetime, 60 s skew);
    // an honest client registers once per (re)connect and tunnel name, a few times a minute at most.
    static constexpr int kMaxRememberedPerKey = 64;
    // Signature checks handed to the workers and not yet answered. Past this many, the next is checked
    // on the calling thread: a flood of registrations (connect, register, leave, again) slows the
    // event loop as it did before there were workers, instead of growing a queue.
    static constexpr int kMaxQueuedChecks = 256;

    enum class Outcome {
        Accepted,
        Malformed,
        BadSignature,
        WrongAudience,
        Expired,
        NotYetValid,
        Unauthorized,
        Replayed,
        Busy,
    };

    // Says whether the key (raw thumbprint; label with the token's name applied) may register.
    using KeyFilter = std::function<bool(const QByteArray &thumbprint, const QString &label)>;

    struct Result {
        Outcome outcome = Outcome::Malformed;
        QString label;         // the hostname label (name applied), when accepted
        QByteArray thumbprint; // raw 32 bytes, when the signature was good
        QString name;
        QString error;        // human-readable reason when refused
        QByteArray replayKey; // thumbprint + jti: what a shared replay cache remembers
        qint64 replayTtlSecs = 0;

        bool accepted() const { return outcome == Outcome::Accepted; }
        // A refusal that may not recur: the cache was full. Every other refusal is final for this key/token.
        bool retryable() const { return outcome == Outcome::Busy; }
    };

    // maxRememberedTokens only exists so tests can fill the replay cache; production uses the default.
    RegistrationVerifier(QString expectedAudience, const util::Clock *clock,
                         qsizetype maxRememberedTokens = kMaxRememberedTokens,
                         int maxRememberedPerKey = kMaxRememberedPerKey);

    // `allowed` empty: every key may register (an open proxy).
    Result verify(const QByteArray &token, const KeyFilter &allowed = {});
    // The same, with the signature checked on a worker thread, then the shared replay cache asked
    // when there is one: `done` runs later, on the calling thread, unless the verifier is destroyed
    // first (or at once, past kMaxQueuedChecks). An ECDSA verification is most of a registration's
    // cost (about 0.1 ms): a burst of tunnels reconnecting after a restart must not stall the event
    // loop that serves visitors. The shared cache is asked only for tokens this instance accepted,
    // so it is bounded as this one is.
    void verify(const QByteArray &token, const KeyFilter &allowed, std::function<void(const Result &)> done);
    // Not owned; must outlive the verifier. Null: only the in-memory cache.
    void setSharedReplayCache(ReplayCache *cache) { m_shared = cache; }

    ~RegistrationVerifier();
    RegistrationVerifier(const RegistrationVerifier &) = delete;
    RegistrationVerifier &operator=(const RegistrationVerifier &) = delete;

    // The form in which audiences are compared: scheme and host lowercased, default port and
    // trailing '/' dropped. Empty when `audience` is not an absolute URL with a host.
    static QString normalizeAudience(const QString &audience);

private:
    // What Jws::verify says of a token: pure, so it may run on any thread.
    struct SignatureCheck {
        std::optional<Jws::Verified> verified;
        QString error;
        Jws::Failure failure = Jws::Failure::None;
    };
    static SignatureCheck checkSignature(const QByteArray &token);
    Result checkClaims(const SignatureCheck &checked, const KeyFilter &allowed);
    void remember(Result result, std::function<void(const Result &)> done);
    void forgetExpired(qint64 nowSecs);

    QString m_audience; // normalised
    const util::Clock *m_clock;
    qsizetype m_maxRemembered;
    int m_maxPerKey;
    ReplayCache *m_shared = nullptr;
    QHash<QByteArray, qint64> m_seenJti;          // thumbprint + jti -> time after which it cannot be replayed
    QHash<QByteArray, int> m_perKey;              // thumbprint -> how many of m_seenJti are its
    std::multimap<qint64, QByteArray> m_expiries; // for pruning in time order
    // Created on first asynchronous use. The receiver lives on the verifier's thread: a worker's
    // answer is queued to it, and dropped with it when the verifier goes first.
    std::unique_ptr<QThreadPool> m_workers;
    std::unique_ptr<QObject> m_receiver;
    int m_queuedChecks = 0; // handed to the workers, answer not handled yet (kMaxQueuedChecks)
};

} // namespace keyhole::crypto
