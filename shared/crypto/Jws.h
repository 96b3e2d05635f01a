#pragma once

#include "crypto/KeyPair.h"

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <optional>

namespace keyhole::crypto {

// Compact JWS (RFC 7515) with ES256 and the signer's public JWK in the protected header.
class Jws
{
public:
    static constexpr qsizetype kMaxTokenBytes = 8 * 1024;

    // header {"alg":"ES256","typ":"keyhole-registration+jwt","jwk":{...}}; payload as compact JSON.
    static QByteArray sign(const KeyPair &key, const QJsonObject &payload);

    struct Verified {
        QJsonObject payload;
        QByteArray thumbprint; // RFC 7638 thumbprint of the embedded JWK, 32 raw bytes
    };
    // Checks the form, alg == ES256 (nothing else accepted, never "none"), the JWK, and the signature.
    // Says nothing about the claims: see RegistrationVerifier.
    static std::optional<Verified> verify(const QByteArray &token, QString *error = nullptr);

    // The same, also telling a well-formed token with a bad signature apart from a malformed one.
    enum class Failure { None, Malformed, BadSignature };
    static std::optional<Verified> verify(const QByteArray &token, QString *error, Failure *failure);
};

} // namespace keyhole::crypto
