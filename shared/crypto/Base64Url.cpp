#include "crypto/Base64Url.h"

namespace keyhole::crypto {

namespace {
constexpr auto kOptions = QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals;
}

QByteArray base64UrlEncode(const QByteArray &raw)
{
    return raw.toBase64(kOptions);
}

std::optional<QByteArray> base64UrlDecode(const QByteArray &text)
{
    // A length of 1 mod 4 can never come from whole bytes.
    if (text.size() % 4 == 1)
        return std::nullopt;
    for (const char c : text) {
        const bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '-'
            || c == '_';
        if (!ok)
            return std::nullopt;
    }
    auto decoded = QByteArray::fromBase64Encoding(text, kOptions | QByteArray::AbortOnBase64DecodingErrors);
    if (!decoded)
        return std::nullopt;
    // Re-encoding catches stray low bits in the last character ("AB" vs "AA").
    if (base64UrlEncode(decoded.decoded) != text)
        return std::nullopt;
    return std::move(decoded.decoded);
}

} // namespace keyhole::crypto
