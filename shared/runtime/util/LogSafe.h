#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <algorithm>

namespace keyhole::util {

// A visitor-controlled value made safe for one log line: at most 200 bytes, control characters
// replaced, so a crafted path cannot start a fake log line. Appended to `out`.
inline void appendLogSafe(QByteArray &out, QByteArrayView value)
{
    const qsizetype from = out.size();
    out.append(value.first(std::min<qsizetype>(value.size(), 200)));
    for (qsizetype i = from; i < out.size(); ++i) {
        const auto c = static_cast<unsigned char>(out.at(i));
        if (c < 0x20 || c == 0x7f)
            out[i] = '?';
    }
}

inline QByteArray logSafe(const QByteArray &value)
{
    QByteArray out;
    appendLogSafe(out, value);
    return out;
}

} // namespace keyhole::util
