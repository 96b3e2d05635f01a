#pragma once

#include <QtGlobal>

namespace keyhole::util {

// A per-tunnel limit on the messages it receives. The in-memory one is a TokenBucket; instances
// sharing a Redis bus use one whose state follows the tunnel from instance to instance.
class RateLimiter
{
public:
    virtual ~RateLimiter() = default;
    virtual bool tryAcquire() = 0;
    // How long until one message would pass; for Retry-After.
    virtual qint64 retryAfterMs() const = 0;
};

} // namespace keyhole::util
