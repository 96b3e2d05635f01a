#pragma once

#include "websocket/WebSocketFrame.h"

#include <QtGlobal>

namespace keyhole::websocket {

// XORs `len` bytes of `src` with the masking key into `dst` (RFC 6455 5.3), eight bytes at a time.
// `phase` is the payload offset of src[0] modulo 4, so a payload can be (un)masked in pieces as it
// arrives. dst == src masks in place; other overlaps are not allowed.
void copyMasked(char *dst, const char *src, qsizetype len, const MaskKey &key, int phase);

inline void applyMask(char *data, qsizetype len, const MaskKey &key, int phase)
{
    copyMasked(data, data, len, key, phase);
}

} // namespace keyhole::websocket
