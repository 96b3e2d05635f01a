#include "FuzzSupport.h"

#include "protocol/Codec.h"

using keyhole::protocol::Codec;
using keyhole::protocol::DecodeLimits;

// One control-channel frame as a hostile peer (either side) could send it. Small limits reach the
// limit checks; a frame that decodes must survive encode -> decode unchanged.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const QByteArray frame(reinterpret_cast<const char *>(data), qsizetype(size));
    DecodeLimits limits;
    limits.maxHeaders = 8;
    limits.maxHeaderBytes = 512;
    limits.maxStringBytes = 256;
    limits.maxBodyBytes = 4096;
    const keyhole::protocol::DecodeResult result = Codec::decode(frame, limits);
    if (!result) {
        KEYHOLE_FUZZ_CHECK(!result.error.isEmpty());
        return 0;
    }
    KEYHOLE_FUZZ_CHECK(result.error.isEmpty());
    const QByteArray encoded = Codec::encode(*result.message);
    const keyhole::protocol::DecodeResult again = Codec::decode(encoded);
    KEYHOLE_FUZZ_CHECK(again);
    KEYHOLE_FUZZ_CHECK(Codec::encode(*again.message) == encoded);
    return 0;
}
