#pragma once

namespace keyhole::util {

// Keeps the allocator from handing freshly zeroed pages to every ~100 KiB body: with glibc's
// defaults a body-sized buffer is trimmed back to the kernel after each request and faulted in
// again for the next, which cost about a fifth of the client's CPU at 100 KiB bodies.
// Call once at startup, before any threads; a no-op where the C library has no such knobs.
void tuneAllocatorForLargeBuffers();

} // namespace keyhole::util
