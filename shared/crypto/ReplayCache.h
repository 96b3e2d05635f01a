#pragma once

#include <QByteArray>

#include <functional>

namespace keyhole::crypto {

// Where registration token ids (jti) are remembered so that a token works once. RegistrationVerifier
// always checks its own in-memory cache; a proxy that shares hostnames with other instances adds a
// shared one (Redis), so a token used on one instance is refused on every other.
class ReplayCache
{
public:
    enum class Verdict { Fresh, Replayed };
    using Done = std::function<void(Verdict)>;

    virtual ~ReplayCache() = default;
    // Remembers `key` for `ttlSecs` and says whether it was new. `done` runs exactly once, possibly
    // before remember() returns.
    virtual void remember(const QByteArray &key, qint64 ttlSecs, Done done) = 0;
};

} // namespace keyhole::crypto
