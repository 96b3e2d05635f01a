#include "websocket/Masking.h"

#include <cstdint>
#include <cstring>

// On x86-64 Linux the masking loop is compiled twice, for AVX2 and for the baseline, and the loader
// picks one for the CPU (an ifunc): with AVX2 it XORs 32 bytes per instruction, about twice as fast
// as the baseline's two 16-byte halves. It is one full pass over every message in each direction.
#if defined(__x86_64__) && defined(__linux__) && (defined(__GNUC__) || defined(__clang__))
#define KEYHOLE_MASK_CLONES __attribute__((target_clones("avx2", "default")))
#else
#define KEYHOLE_MASK_CLONES
#endif

namespace keyhole::websocket {

namespace {
#if defined(__GNUC__) || defined(__clang__)
// 32 bytes as one value; the compiler splits it into whatever registers the target has.
typedef std::uint64_t Block __attribute__((vector_size(32)));
#endif
} // namespace

KEYHOLE_MASK_CLONES void copyMasked(char *dst, const char *src, qsizetype len, const MaskKey &key, int phase)
{
    // The key repeated over a 64-bit word, starting at `phase`; memcpy keeps it independent of
    // endianness and alignment, and compiles to plain (unaligned) loads and stores.
    uchar pattern[8];
    for (int i = 0; i < 8; ++i)
        pattern[i] = key[size_t((phase + i) & 3)];
    std::uint64_t word;
    std::memcpy(&word, pattern, 8);

    qsizetype i = 0;
#if defined(__GNUC__) || defined(__clang__)
    const Block block = {word, word, word, word};
    for (; i + 32 <= len; i += 32) {
        Block v;
        std::memcpy(&v, src + i, 32);
        v ^= block;
        std::memcpy(dst + i, &v, 32);
    }
#endif
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
