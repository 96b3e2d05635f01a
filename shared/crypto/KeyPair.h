#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

#include <memory>
#include <optional>

typedef struct evp_pkey_st EVP_PKEY;

namespace keyhole::crypto {

// An ECDSA P-256 key (private + public, or public only when built from a JWK). The only class
// besides Jws that touches OpenSSL. Move-only; not thread-safe for concurrent use of one object.
class KeyPair
{
public:
    KeyPair(KeyPair &&) noexcept;
    KeyPair &operator=(KeyPair &&) noexcept;
    ~KeyPair();

    static std::optional<KeyPair> generate();
    // Accepts SEC1 ("EC PRIVATE KEY") and PKCS#8 ("PRIVATE KEY") PEM; only P-256.
    static std::optional<KeyPair> fromPrivatePem(const QByteArray &pem, QString *error = nullptr);
    // A public key from a JWK {"kty":"EC","crv":"P-256","x":..,"y":..}; checks the point is on the curve.
    static std::optional<KeyPair> fromPublicJwk(const QJsonObject &jwk, QString *error = nullptr);

    // Frees the calling thread's OpenSSL state (its error queue). Worker threads call it after each
    // job: Qt's pool threads end detached, and OpenSSL frees a thread's state only when the thread
    // ends, which may come after its own cleanup at process exit (then the state leaks).
    static void releaseThreadState();

    bool hasPrivateKey() const;
    QByteArray privatePem() const; // PKCS#8; empty without a private key

    // {"crv","kty","x","y"} with unpadded base64url coordinates of 32 bytes each.
    QJsonObject publicJwk() const;
    // RFC 7638: SHA-256 of the canonical JWK {"crv":"P-256","kty":"EC","x":"..","y":".."}; 32 raw bytes.
    QByteArray thumbprint() const;

    // ES256 (RFC 7518 3.4): the 64-byte R||S form used by JWS, not DER. Empty on failure.
    QByteArray signEs256(const QByteArray &data) const;
    bool verifyEs256(const QByteArray &data, const QByteArray &signature) const;

private:
    struct PkeyDeleter {
        void operator()(EVP_PKEY *key) const;
    };
    explicit KeyPair(EVP_PKEY *key, bool hasPrivate);
    KeyPair(EVP_PKEY *key, bool hasPrivate, const QByteArray &publicPoint);

    std::unique_ptr<EVP_PKEY, PkeyDeleter> m_key;
    bool m_hasPrivate = false;
    QByteArray m_publicPoint; // 0x04 || x || y, kept so the JWK and thumbprint need no OpenSSL calls
};

} // namespace keyhole::crypto
