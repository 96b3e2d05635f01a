#pragma once

#include "protocol/Codec.h"

namespace keyhole::protocol {

// Reads one frame in a single pass with QCborStreamReader, checking every length against the
// limits before allocating. Strict: see Codec::decode.
DecodeResult decodeFrame(const QByteArray &frame, const DecodeLimits &limits);

} // namespace keyhole::protocol
