#pragma once

#include <QMaskGenerator>

namespace keyhole::client {

// Masks the control channel's frames with the key 0, which QtWebSockets (6.4) on the proxy side
// recognises and skips: unmasking a 100 KiB body byte by byte was the proxy's largest cost.
// Masking exists so that script in a browser cannot make a WebSocket's bytes look like HTTP to a
// caching intermediary; this client is not a browser and runs no one else's script, and over wss
// no intermediary sees the bytes at all.
class ZeroMaskGenerator : public QMaskGenerator
{
    Q_OBJECT

public:
    using QMaskGenerator::QMaskGenerator;
    bool seed() noexcept override { return true; }
    quint32 nextMask() noexcept override { return 0; }
};

} // namespace keyhole::client
