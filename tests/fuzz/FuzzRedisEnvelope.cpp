#include "FuzzSupport.h"

#include "bus/redis/RedisEnvelope.h"
#include "bus/redis/RedisUrl.h"

using keyhole::proxy::RedisEnvelope;

// What arrives from Redis pub/sub: written by other proxy instances, but Redis is a shared service,
// so the frame is checked as untrusted. The same bytes also go to the failure and number payload
// decoders and, as text, to the --redis URL parser.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray bytes(reinterpret_cast<const char *>(data), qsizetype(size));
    QString error;
    const std::optional<RedisEnvelope> envelope = RedisEnvelope::decode(bytes, 2048, &error);
    if (envelope) {
        KEYHOLE_FUZZ_CHECK(envelope->source.size() <= RedisEnvelope::kMaxSourceBytes);
        KEYHOLE_FUZZ_CHECK(envelope->key.size() <= RedisEnvelope::kMaxKeyBytes);
        KEYHOLE_FUZZ_CHECK(envelope->encode() == bytes);
        int status = 0;
        int retryAfter = 0;
        QString reason;
        if (RedisEnvelope::decodeFailure(envelope->payload, &status, &retryAfter, &reason))
            KEYHOLE_FUZZ_CHECK(reason.size() <= 1024);
        (void)RedisEnvelope::decodeNumber(envelope->payload);
    } else {
        KEYHOLE_FUZZ_CHECK(!error.isEmpty());
    }
    int status = 0;
    int retryAfter = 0;
    QString reason;
    (void)RedisEnvelope::decodeFailure(bytes, &status, &retryAfter, &reason);
    (void)RedisEnvelope::decodeNumber(bytes);

    QString urlError;
    if (const std::optional<keyhole::proxy::RedisUrl> url = keyhole::proxy::RedisUrl::parse(QString::fromUtf8(bytes),
                                                                                            &urlError))
        (void)url->redacted();
    else
        KEYHOLE_FUZZ_CHECK(!urlError.isEmpty());
    return 0;
}
