#pragma once

#include "crypto/KeyPair.h"

#include <QByteArray>
#include <QDir>
#include <QFile>
#include <QJsonDocument>
#include <QJsonObject>
#include <QString>

#include <optional>

// Public values of the kit's throwaway P-256 key (see the kit README); the private PEMs stay outside the repo.
namespace keyhole::crypto::testvectors {

inline const QByteArray kCanonicalJwk = QByteArrayLiteral(
    "{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"CD4AmPHN2AJudtkA3qFSAoPGqCP7iZJumfftVhCjoXQ\","
    "\"y\":\"zr0Kdhwmay9ZmHADcPxo5ld99svdCJmqd8THFc1cRps\"}");
inline const QString kX = QStringLiteral("CD4AmPHN2AJudtkA3qFSAoPGqCP7iZJumfftVhCjoXQ");
inline const QString kY = QStringLiteral("zr0Kdhwmay9ZmHADcPxo5ld99svdCJmqd8THFc1cRps");
inline const QByteArray kThumbprintB64 = QByteArrayLiteral("x0ADszBpfG8DLP1K9FL1JDaQIVryuM3cEcroqqWMotc");
inline const QString kLabel = QStringLiteral("y5aahmzqnf6g6azm7vfpiuxveq3jaik26k4m3xarzlukvjmmullq");
inline const QString kLabelWeb = QStringLiteral("cqdalhglfhy4fl7g3f2uny4hvhbqmwwq5tlrjk3kdvnoqe72qj4a");

inline QJsonObject publicJwk()
{
    return QJsonDocument::fromJson(kCanonicalJwk).object();
}

// Reads one PEM from $KEYHOLE_TEST_VECTORS (tests/data/key-vectors); nullopt when it cannot be read.
inline std::optional<QByteArray> readVectorPem(const QString &fileName)
{
    const QString dir = qEnvironmentVariable("KEYHOLE_TEST_VECTORS");
    if (dir.isEmpty())
        return std::nullopt;
    QFile file(QDir(dir).filePath(fileName));
    if (!file.open(QIODevice::ReadOnly))
        return std::nullopt;
    return file.readAll();
}

} // namespace keyhole::crypto::testvectors

namespace keyhole::crypto::testutil {

inline QByteArray b64(const QByteArray &raw)
{
    return raw.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

inline QByteArray json(const QJsonObject &object)
{
    return QJsonDocument(object).toJson(QJsonDocument::Compact);
}

// A compact JWS with any header and payload, signed by `key`: for tokens Jws::sign would never make.
inline QByteArray craft(const KeyPair &key, const QByteArray &headerJson, const QByteArray &payloadJson)
{
    const QByteArray input = b64(headerJson) + '.' + b64(payloadJson);
    return input + '.' + b64(key.signEs256(input));
}

inline QJsonObject es256Header(const KeyPair &key)
{
    return QJsonObject{{QStringLiteral("alg"), QStringLiteral("ES256")},
                       {QStringLiteral("typ"), QStringLiteral("keyhole-registration+jwt")},
                       {QStringLiteral("jwk"), key.publicJwk()}};
}

} // namespace keyhole::crypto::testutil
