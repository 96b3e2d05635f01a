#pragma once

#include "crypto/KeyPair.h"

#include <QByteArray>
#include <QString>

namespace keyhole::crypto {

// The signed claims of a RegistrationRequest: aud (the proxy URL the client was given), iat,
// exp (at most 60 s after iat), a random jti, and the optional tunnel name.
struct RegistrationClaims {
    QString audience;
    qint64 issuedAt = 0;  // seconds since the epoch
    qint64 expiresAt = 0; // seconds since the epoch
    QByteArray jti;
    QString name;
};

class RegistrationToken
{
public:
    static constexpr qint64 kLifetimeSecs = 60;

    // A token for `audience`, issued at nowSecs with a fresh random jti.
    static QByteArray create(const KeyPair &key, const QString &audience, const QString &name, qint64 nowSecs);
};

} // namespace keyhole::crypto
