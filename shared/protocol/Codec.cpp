#include "protocol/Codec.h"

#include "protocol/FrameDecoder.h"
#include "protocol/FrameEncoder.h"

namespace keyhole::protocol {

QByteArray Codec::encode(const Message &message, int version)
{
    return encodeFrame(message, version);
}

EncodedFrame Codec::encodeParts(const Message &message, int version)
{
    return encodeFrameParts(message, version);
}

DecodeResult Codec::decode(const QByteArray &frame, const DecodeLimits &limits)
{
    return decodeFrame(frame, limits);
}

} // namespace keyhole::protocol
