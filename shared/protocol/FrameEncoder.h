#pragma once

#include "protocol/Messages.h"

#include <QByteArray>

namespace keyhole::protocol {

// Writes one frame in two passes over the schema: first the size, so the output is allocated once.
QByteArray encodeFrame(const Message &message, int version);

} // namespace keyhole::protocol
