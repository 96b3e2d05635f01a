#include "crypto/RegistrationToken.h"

#include "crypto/Base64Url.h"
#include "crypto/Jws.h"

#include <QJsonObject>
#include <QRandomGenerator>

#include <array>

namespace keyhole::crypto {

namespace {
constexpr int kJtiBytes = 16;
}

QByteArray RegistrationToken::create(const KeyPair &key, const QString &audience, const QString &name, qint64 nowSecs)
{
    // QRandomGenerator::system() is the operating system's CSPRNG.
    std::array<quint32, kJtiBytes / sizeof(quint32)> random{};
    QRandomGenerator::system()->fillRange(random.data(), qsizetype(random.size()));
    const QByteArray jti = base64UrlEncode(QByteArray(reinterpret_cast<const char *>(random.data()), kJtiBytes));

    QJsonObject payload{
        {QStringLiteral("aud"), audience},
        {QStringLiteral("iat"), nowSecs},
        {QStringLiteral("exp"), nowSecs + kLifetimeSecs},
        {QStringLiteral("jti"), QString::fromLatin1(jti)},
    };
    if (!name.isEmpty())
        payload.insert(QStringLiteral("name"), name);
    return Jws::sign(key, payload);
}

} // namespace keyhole::crypto
