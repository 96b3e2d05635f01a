#include "websocket/WebSocketFrame.h"

#include <cstring>

namespace keyhole::websocket {

bool isSendableCloseCode(int code)
{
    return (code >= 1000 && code <= 1003) || (code >= 1007 && code <= 1014) || (code >= 3000 && code <= 4999);
}

int encodeFrameHeader(char *out, Opcode opcode, quint64 payloadLength, bool fin, const MaskKey *mask)
{
    auto *p = reinterpret_cast<uchar *>(out);
    p[0] = uchar((fin ? 0x80 : 0x00) | quint8(opcode));
    const uchar maskBit = mask ? 0x80 : 0x00;
    int size = 2;
    if (payloadLength < 126) {
        p[1] = uchar(maskBit | payloadLength);
    } else if (payloadLength <= 0xFFFF) {
        p[1] = uchar(maskBit | 126);
        p[2] = uchar(payloadLength >> 8);
        p[3] = uchar(payloadLength);
        size = 4;
    } else {
        p[1] = uchar(maskBit | 127);
        for (int i = 0; i < 8; ++i)
            p[2 + i] = uchar(payloadLength >> (56 - 8 * i));
        size = 10;
    }
    if (mask) {
        std::memcpy(p + size, mask->data(), 4);
        size += 4;
    }
    return size;
}

} // namespace keyhole::websocket
