#pragma once

#include <QByteArray>

namespace keyhole::util {

// A visitor-controlled value made safe for one log line: at most 200 bytes, control characters
// replaced, so a crafted path cannot start a fake log line.
inline QByteArray logSafe(const QByteArray &value)
{
    QByteArray out = value.left(200);
    for (char &c : out) {
        if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f)
            c = '?';
    }
    return out;
}

} // namespace keyhole::util
