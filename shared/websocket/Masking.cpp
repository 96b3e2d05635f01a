#include "websocket/Masking.h"

#include <cstdint>
#include <cstring>

namespace keyhole::websocket {

void copyMasked(char *dst, const char *src, qsizetype len, const MaskKey &key, int phase)
{
    // The key repeated over a 64-bit word, starting at `phase`; memcpy keeps it independent of
    // endianness and alignment, and compiles to plain loads and stores.
    uchar pattern[8];
    for (int i = 0; i < 8; ++i)
        pattern[i] = key[size_t((phase + i) & 3)];
    std::uint64_t word;
    std::memcpy(&word, pattern, 8);

    qsizetype i = 0;
    for (; i + 8 <= len; i += 8) {
        std::uint64_t v;
        std::memcpy(&v, src + i, 8);
        v ^= word;
        std::memcpy(dst + i, &v, 8);
    }
    for (; i < len; ++i)
        dst[i] = char(uchar(src[i]) ^ pattern[i & 7]);
}

} // namespace keyhole::websocket
