#include "util/AllocatorTuning.h"

#if defined(__GLIBC__)
#include <malloc.h>
#endif

namespace keyhole::util {

void tuneAllocatorForLargeBuffers()
{
#if defined(__GLIBC__)
    // Bodies up to a few MiB come from the heap rather than fresh mmaps, and up to 64 MiB of free
    // heap is kept instead of being returned after every request. Memory stays bounded by the
    // body and queue limits; it is only reused instead of re-faulted.
    mallopt(M_MMAP_THRESHOLD, 8 * 1024 * 1024);
    mallopt(M_TRIM_THRESHOLD, 64 * 1024 * 1024);
#endif
}

} // namespace keyhole::util
