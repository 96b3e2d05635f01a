#include "FuzzSupport.h"

#include "websocket/MessageDecoder.h"

#include <QBuffer>

#include <algorithm>

using namespace keyhole::websocket;

// The RFC 6455 decoder in both roles: as the proxy's server side (visitors' WebSockets, the control
// channel) and as the client's. Layout: [flags][chunk][stream...]; flags pick the role and whether
// the bytes are fed or read from a QIODevice, as the channel does.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keyhole::fuzz::FuzzInput input(data, size);
    const uint8_t flags = input.takeByte();
    const qsizetype chunk = input.takeByte() % 32; // 0: everything at once
    const QByteArray stream = input.rest();
    const Role role = (flags & 1) ? Role::Client : Role::Server;
    const bool fromDevice = flags & 2;
    constexpr qint64 kMax = 1024;

    MessageDecoder decoder(role, kMax);
    QByteArray pending; // what the device would hold
    QBuffer device(&pending);
    device.open(QIODevice::ReadOnly);

    auto drain = [&] {
        while (std::optional<Message> m = decoder.next(fromDevice ? &device : nullptr)) {
            KEYHOLE_FUZZ_CHECK(decoder.error() == 0);
            KEYHOLE_FUZZ_CHECK(m->opcode != Opcode::Continuation);
            KEYHOLE_FUZZ_CHECK(m->payload.size() <= kMax);
            KEYHOLE_FUZZ_CHECK(m->text.size() <= kMax);
            if (m->opcode == Opcode::Close || m->opcode == Opcode::Ping || m->opcode == Opcode::Pong)
                KEYHOLE_FUZZ_CHECK(m->payload.size() <= 125);
        }
    };

    qsizetype pos = 0;
    while (pos < stream.size() && decoder.error() == 0) {
        const qsizetype len = chunk ? std::min(chunk, stream.size() - pos) : stream.size() - pos;
        if (fromDevice) {
            const qint64 at = device.pos();
            pending.append(stream.constData() + pos, len);
            device.seek(at);
        } else {
            decoder.feed(stream.mid(pos, len));
        }
        pos += len;
        drain();
    }
    const quint16 error = decoder.error();
    KEYHOLE_FUZZ_CHECK(error == 0 || error == 1002 || error == 1007 || error == 1009);
    if (error != 0) {
        KEYHOLE_FUZZ_CHECK(!decoder.errorString().isEmpty());
        KEYHOLE_FUZZ_CHECK(!decoder.next(fromDevice ? &device : nullptr)); // stopped for good
    }
    return 0;
}
