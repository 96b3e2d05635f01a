#pragma once

#include <QByteArray>

#include <optional>

namespace keyhole::crypto {

// Unpadded base64url (RFC 4648 section 5), as JWS uses it.
QByteArray base64UrlEncode(const QByteArray &raw);
// Strict: rejects padding, whitespace, characters outside the alphabet and non-canonical trailing bits,
// so one value has exactly one accepted encoding.
std::optional<QByteArray> base64UrlDecode(const QByteArray &text);

} // namespace keyhole::crypto
