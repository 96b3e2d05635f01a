#include "crypto/Label.h"

#include "crypto/KeyPair.h"

#include <QCryptographicHash>

namespace keyhole::crypto {

namespace {
constexpr int kThumbprintBytes = 32;
constexpr qsizetype kLabelChars = 52;
constexpr qsizetype kMaxNameChars = 63;
constexpr char kAlphabet[] = "abcdefghijklmnopqrstuvwxyz234567";
} // namespace

QString base32Lower(const QByteArray &raw)
{
    QString out;
    out.reserve((raw.size() * 8 + 4) / 5);
    quint32 buffer = 0;
    int bits = 0;
    for (const char c : raw) {
        buffer = (buffer << 8) | quint8(c);
        bits += 8;
        while (bits >= 5) {
            bits -= 5;
            out.append(QLatin1Char(kAlphabet[(buffer >> bits) & 0x1f]));
        }
    }
    // The last group is zero-padded on the right; RFC 4648 '=' padding is left off.
    if (bits > 0)
        out.append(QLatin1Char(kAlphabet[(buffer << (5 - bits)) & 0x1f]));
    return out;
}

QString labelForThumbprint(const QByteArray &thumbprint, const QString &name)
{
    if (thumbprint.size() != kThumbprintBytes)
        return {};
    const QString label = base32Lower(thumbprint);
    if (name.isEmpty())
        return label;
    return base32Lower(QCryptographicHash::hash(label.toUtf8() + name.toUtf8(), QCryptographicHash::Sha256));
}

QString labelForKey(const KeyPair &key, const QString &name)
{
    return labelForThumbprint(key.thumbprint(), name);
}

bool isValidLabel(QStringView label)
{
    if (label.size() != kLabelChars)
        return false;
    for (const QChar c : label) {
        if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('2') && c <= QLatin1Char('7'))))
            return false;
    }
    return true;
}

bool isValidTunnelName(QStringView name)
{
    if (name.isEmpty() || name.size() > kMaxNameChars)
        return false;
    if (name.front() == QLatin1Char('-') || name.back() == QLatin1Char('-'))
        return false;
    for (const QChar c : name) {
        if (!((c >= QLatin1Char('a') && c <= QLatin1Char('z')) || (c >= QLatin1Char('0') && c <= QLatin1Char('9'))
              || c == QLatin1Char('-')))
            return false;
    }
    return true;
}

} // namespace keyhole::crypto
