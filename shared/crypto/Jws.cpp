#include "crypto/Jws.h"

#include "crypto/Base64Url.h"

#include <QJsonDocument>
#include <QJsonParseError>
#include <QList>

namespace keyhole::crypto {

namespace {

constexpr char kAlgorithm[] = "ES256";
constexpr char kType[] = "keyhole-registration+jwt";
constexpr qsizetype kSignatureBytes = 64;

std::optional<QJsonObject> parseObject(const QByteArray &json)
{
    QJsonParseError parseError;
    const QJsonDocument document = QJsonDocument::fromJson(json, &parseError);
    if (parseError.error != QJsonParseError::NoError || !document.isObject())
        return std::nullopt;
    return document.object();
}

} // namespace

QByteArray Jws::sign(const KeyPair &key, const QJsonObject &payload)
{
    const QJsonObject jwk = key.publicJwk();
    if (jwk.isEmpty() || !key.hasPrivateKey())
        return {};
    const QJsonObject header{
        {QStringLiteral("alg"), QLatin1String(kAlgorithm)},
        {QStringLiteral("typ"), QLatin1String(kType)},
        {QStringLiteral("jwk"), jwk},
    };
    const QByteArray signingInput = base64UrlEncode(QJsonDocument(header).toJson(QJsonDocument::Compact)) + '.'
        + base64UrlEncode(QJsonDocument(payload).toJson(QJsonDocument::Compact));
    const QByteArray signature = key.signEs256(signingInput);
    if (signature.isEmpty())
        return {};
    return signingInput + '.' + base64UrlEncode(signature);
}

std::optional<Jws::Verified> Jws::verify(const QByteArray &token, QString *error)
{
    return verify(token, error, nullptr);
}

std::optional<Jws::Verified> Jws::verify(const QByteArray &token, QString *error, Failure *failure)
{
    const auto fail = [&](Failure kind, const char *reason) -> std::optional<Verified> {
        if (error)
            *error = QString::fromLatin1(reason);
        if (failure)
            *failure = kind;
        return std::nullopt;
    };
    const auto malformed = [&](const char *reason) { return fail(Failure::Malformed, reason); };

    if (token.isEmpty())
        return malformed("empty token");
    if (token.size() > kMaxTokenBytes)
        return malformed("token too large");
    const QList<QByteArray> parts = token.split('.');
    if (parts.size() != 3)
        return malformed("token must have three dot-separated parts");

    const auto headerJson = base64UrlDecode(parts[0]);
    const auto payloadJson = base64UrlDecode(parts[1]);
    const auto signature = base64UrlDecode(parts[2]);
    if (!headerJson || !payloadJson || !signature)
        return malformed("token part is not valid base64url");

    const auto header = parseObject(*headerJson);
    if (!header)
        return malformed("header is not a JSON object");
    if (header->value(QLatin1String("alg")) != QJsonValue(QLatin1String(kAlgorithm)))
        return malformed("alg must be ES256");
    // We implement no extensions, so any critical one must be refused (RFC 7515 4.1.11).
    if (header->contains(QLatin1String("crit")))
        return malformed("unsupported critical header");
    const QJsonValue type = header->value(QLatin1String("typ"));
    if (!type.isUndefined() && type != QJsonValue(QLatin1String(kType)))
        return malformed("unexpected typ");
    const QJsonValue jwkValue = header->value(QLatin1String("jwk"));
    if (!jwkValue.isObject())
        return malformed("header has no jwk");
    const QJsonObject jwk = jwkValue.toObject();
    if (jwk.contains(QLatin1String("d")))
        return malformed("jwk holds a private key");
    const auto key = KeyPair::fromPublicJwk(jwk);
    if (!key)
        return malformed("jwk is not a P-256 public key");

    if (signature->size() != kSignatureBytes)
        return malformed("signature must be 64 bytes");
    const QByteArray signingInput = parts[0] + '.' + parts[1];
    if (!key->verifyEs256(signingInput, *signature))
        return fail(Failure::BadSignature, "bad signature");

    const auto payload = parseObject(*payloadJson);
    if (!payload)
        return malformed("payload is not a JSON object");

    if (failure)
        *failure = Failure::None;
    return Verified{*payload, key->thumbprint()};
}

} // namespace keyhole::crypto
