#include "crypto/KeyPair.h"

#include "crypto/Base64Url.h"
#include "crypto/CryptoLogging.h"

#include <QCryptographicHash>

#include <openssl/bio.h>
#include <openssl/bn.h>
#include <openssl/core_names.h>
#include <openssl/crypto.h>
#include <openssl/ec.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/obj_mac.h>
#include <openssl/params.h>
#include <openssl/pem.h>

#include <cstring>

namespace keyhole::crypto {

namespace {

constexpr int kCoordinateBytes = 32;
constexpr char kCurveName[] = SN_X9_62_prime256v1; // "prime256v1", a.k.a. P-256

struct BioFree {
    void operator()(BIO *bio) const { BIO_free(bio); }
};
struct BnFree {
    void operator()(BIGNUM *bn) const { BN_free(bn); }
};
struct PkeyCtxFree {
    void operator()(EVP_PKEY_CTX *ctx) const { EVP_PKEY_CTX_free(ctx); }
};
struct MdCtxFree {
    void operator()(EVP_MD_CTX *ctx) const { EVP_MD_CTX_free(ctx); }
};
struct EcdsaSigFree {
    void operator()(ECDSA_SIG *sig) const { ECDSA_SIG_free(sig); }
};
struct PkeyFree {
    void operator()(EVP_PKEY *key) const { EVP_PKEY_free(key); }
};

using BioPtr = std::unique_ptr<BIO, BioFree>;
using BnPtr = std::unique_ptr<BIGNUM, BnFree>;
using PkeyCtxPtr = std::unique_ptr<EVP_PKEY_CTX, PkeyCtxFree>;
using MdCtxPtr = std::unique_ptr<EVP_MD_CTX, MdCtxFree>;
using EcdsaSigPtr = std::unique_ptr<ECDSA_SIG, EcdsaSigFree>;
using PkeyPtr = std::unique_ptr<EVP_PKEY, PkeyFree>;

void setError(QString *error, const QString &text)
{
    if (error)
        *error = text;
}

// Drops OpenSSL's per-thread error queue so one failure does not leak into the next call's diagnostics.
void clearOpensslErrors()
{
    ERR_clear_error();
}

// Never prompt on a terminal for the password of an encrypted PEM: we do not support those.
int noPassword(char *, int, int, void *)
{
    return -1;
}

bool isP256(const EVP_PKEY *key)
{
    if (!EVP_PKEY_is_a(key, "EC"))
        return false;
    char group[64] = {};
    size_t length = 0;
    if (EVP_PKEY_get_utf8_string_param(key, OSSL_PKEY_PARAM_GROUP_NAME, group, sizeof group, &length) != 1)
        return false;
    return std::strcmp(group, kCurveName) == 0;
}

// P-256's domain parameters alone, built once: a public key copies them and adds its point, which
// costs a fraction of building the group from its name for every registration. Shared by the
// verification workers: EVP_PKEY_dup() only reads it. (Not one per thread: a worker's thread_local
// would be freed as the thread ends, and Qt's pool threads end detached, possibly after OpenSSL's
// own cleanup at exit.)
const EVP_PKEY *p256Parameters()
{
    static const PkeyPtr parameters = [] {
        char curve[] = SN_X9_62_prime256v1;
        const OSSL_PARAM params[] = {
            OSSL_PARAM_construct_utf8_string(OSSL_PKEY_PARAM_GROUP_NAME, curve, 0),
            OSSL_PARAM_construct_end(),
        };
        PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_name(nullptr, "EC", nullptr));
        EVP_PKEY *raw = nullptr;
        if (!ctx || EVP_PKEY_fromdata_init(ctx.get()) != 1
            || EVP_PKEY_fromdata(ctx.get(), &raw, EVP_PKEY_KEY_PARAMETERS, const_cast<OSSL_PARAM *>(params)) != 1)
            clearOpensslErrors();
        return PkeyPtr(raw);
    }();
    return parameters.get();
}

QByteArray coordinate(const EVP_PKEY *key, const char *name)
{
    BIGNUM *raw = nullptr;
    if (EVP_PKEY_get_bn_param(key, name, &raw) != 1)
        return {};
    BnPtr bn(raw);
    QByteArray out(kCoordinateBytes, Qt::Uninitialized);
    if (BN_bn2binpad(bn.get(), reinterpret_cast<unsigned char *>(out.data()), kCoordinateBytes) != kCoordinateBytes)
        return {};
    return out;
}

// The uncompressed SEC1 encoding 0x04 || x || y of a key's public point, whatever form the key was
// stored in (a PEM may hold a compressed point); empty on failure.
QByteArray uncompressedPublicPoint(const EVP_PKEY *key)
{
    const QByteArray x = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_X);
    const QByteArray y = coordinate(key, OSSL_PKEY_PARAM_EC_PUB_Y);
    clearOpensslErrors();
    if (x.isEmpty() || y.isEmpty())
        return {};
    return char(0x04) + x + y;
}

} // namespace

void KeyPair::PkeyDeleter::operator()(EVP_PKEY *key) const
{
    EVP_PKEY_free(key);
}

KeyPair::KeyPair(EVP_PKEY *key, bool hasPrivate)
    : KeyPair(key, hasPrivate, uncompressedPublicPoint(key))
{
}

KeyPair::KeyPair(EVP_PKEY *key, bool hasPrivate, const QByteArray &publicPoint)
    : m_key(key)
    , m_hasPrivate(hasPrivate)
    , m_publicPoint(publicPoint)
{
}

KeyPair::KeyPair(KeyPair &&) noexcept = default;
KeyPair &KeyPair::operator=(KeyPair &&) noexcept = default;
KeyPair::~KeyPair() = default;

std::optional<KeyPair> KeyPair::generate()
{
    EVP_PKEY *key = EVP_PKEY_Q_keygen(nullptr, nullptr, "EC", kCurveName);
    if (!key) {
        qCWarning(lcCrypto) << "P-256 key generation failed";
        clearOpensslErrors();
        return std::nullopt;
    }
    return KeyPair(key, true);
}

std::optional<KeyPair> KeyPair::fromPrivatePem(const QByteArray &pem, QString *error)
{
    if (pem.isEmpty()) {
        setError(error, QStringLiteral("empty key file"));
        return std::nullopt;
    }
    BioPtr bio(BIO_new_mem_buf(pem.constData(), int(pem.size())));
    if (!bio) {
        setError(error, QStringLiteral("out of memory"));
        return std::nullopt;
    }
    // Reads SEC1 "EC PRIVATE KEY" and PKCS#8 "PRIVATE KEY" alike, skipping blocks such as "EC PARAMETERS".
    PkeyPtr key(PEM_read_bio_PrivateKey(bio.get(), nullptr, noPassword, nullptr));
    clearOpensslErrors();
    if (!key) {
        setError(error, QStringLiteral("not an unencrypted PEM private key"));
        return std::nullopt;
    }
    if (!isP256(key.get())) {
        setError(error, QStringLiteral("not an ECDSA P-256 key"));
        return std::nullopt;
    }
    PkeyCtxPtr ctx(EVP_PKEY_CTX_new_from_pkey(nullptr, key.get(), nullptr));
    const bool consistent = ctx && EVP_PKEY_pairwise_check(ctx.get()) == 1;
    clearOpensslErrors();
    if (!consistent) {
        setError(error, QStringLiteral("inconsistent P-256 key"));
        return std::nullopt;
    }
    return KeyPair(key.release(), true);
}

std::optional<KeyPair> KeyPair::fromPublicJwk(const QJsonObject &jwk, QString *error)
{
    if (jwk.value(QLatin1String("kty")).toString() != QLatin1String("EC")) {
        setError(error, QStringLiteral("JWK kty must be \"EC\""));
        return std::nullopt;
    }
    if (jwk.value(QLatin1String("crv")).toString() != QLatin1String("P-256")) {
        setError(error, QStringLiteral("JWK crv must be \"P-256\""));
        return std::nullopt;
    }
    if (jwk.contains(QLatin1String("d"))) {
        setError(error, QStringLiteral("a public JWK must not hold a private key"));
        return std::nullopt;
    }
    const QJsonValue xValue = jwk.value(QLatin1String("x"));
    const QJsonValue yValue = jwk.value(QLatin1String("y"));
    if (!xValue.isString() || !yValue.isString()) {
        setError(error, QStringLiteral("JWK x and y must be strings"));
        return std::nullopt;
    }
    const auto x = base64UrlDecode(xValue.toString().toLatin1());
    const auto y = base64UrlDecode(yValue.toString().toLatin1());
    if (!x || !y || x->size() != kCoordinateBytes || y->size() != kCoordinateBytes) {
        setError(error, QStringLiteral("JWK x and y must be 32 bytes of base64url"));
        return std::nullopt;
    }

    // The uncompressed SEC1 point: 0x04 || x || y.
    QByteArray point;
    point.reserve(1 + 2 * kCoordinateBytes);
    point.append(char(0x04)).append(*x).append(*y);

    // OpenSSL refuses a point that is not on the curve here (EC_POINT_oct2point checks), and an
    // uncompressed encoding cannot name the point at infinity. P-256 has cofactor 1, so every such
    // point has the group's prime order: this is SP 800-56A's partial validation, complete.
    const EVP_PKEY *parameters = p256Parameters();
    PkeyPtr key(parameters ? EVP_PKEY_dup(const_cast<EVP_PKEY *>(parameters)) : nullptr);
    const bool valid = key
        && EVP_PKEY_set1_encoded_public_key(key.get(), reinterpret_cast<const unsigned char *>(point.constData()),
                                            size_t(point.size()))
            == 1;
    clearOpensslErrors();
    if (!valid) {
        setError(error, QStringLiteral("JWK is not a point on P-256"));
        return std::nullopt;
    }
    return KeyPair(key.release(), false, point);
}

void KeyPair::releaseThreadState()
{
    OPENSSL_thread_stop();
}

bool KeyPair::hasPrivateKey() const
{
    return m_key && m_hasPrivate;
}

QByteArray KeyPair::privatePem() const
{
    if (!hasPrivateKey())
        return {};
    BioPtr bio(BIO_new(BIO_s_mem()));
    if (!bio || PEM_write_bio_PKCS8PrivateKey(bio.get(), m_key.get(), nullptr, nullptr, 0, nullptr, nullptr) != 1) {
        clearOpensslErrors();
        return {};
    }
    char *data = nullptr;
    const long length = BIO_get_mem_data(bio.get(), &data);
    if (length <= 0 || !data)
        return {};
    return QByteArray(data, qsizetype(length));
}

QJsonObject KeyPair::publicJwk() const
{
    if (!m_key || m_publicPoint.isEmpty())
        return {};
    return QJsonObject{
        {QStringLiteral("crv"), QStringLiteral("P-256")},
        {QStringLiteral("kty"), QStringLiteral("EC")},
        {QStringLiteral("x"), QString::fromLatin1(base64UrlEncode(m_publicPoint.mid(1, kCoordinateBytes)))},
        {QStringLiteral("y"), QString::fromLatin1(base64UrlEncode(m_publicPoint.mid(1 + kCoordinateBytes)))},
    };
}

QByteArray KeyPair::thumbprint() const
{
    if (!m_key || m_publicPoint.isEmpty())
        return {};
    // RFC 7638 fixes the member order and forbids whitespace, so the JSON is written by hand.
    const QByteArray canonical = QByteArrayLiteral("{\"crv\":\"P-256\",\"kty\":\"EC\",\"x\":\"")
        + base64UrlEncode(m_publicPoint.mid(1, kCoordinateBytes)) + QByteArrayLiteral("\",\"y\":\"")
        + base64UrlEncode(m_publicPoint.mid(1 + kCoordinateBytes)) + QByteArrayLiteral("\"}");
    return QCryptographicHash::hash(canonical, QCryptographicHash::Sha256);
}

QByteArray KeyPair::signEs256(const QByteArray &data) const
{
    if (!hasPrivateKey())
        return {};
    MdCtxPtr ctx(EVP_MD_CTX_new());
    size_t derLength = 0;
    const auto *input = reinterpret_cast<const unsigned char *>(data.constData());
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_key.get()) != 1
        || EVP_DigestSign(ctx.get(), nullptr, &derLength, input, size_t(data.size())) != 1) {
        clearOpensslErrors();
        return {};
    }
    QByteArray der(qsizetype(derLength), Qt::Uninitialized);
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char *>(der.data()), &derLength, input, size_t(data.size()))
        != 1) {
        clearOpensslErrors();
        return {};
    }

    // OpenSSL signs in DER; JWS wants the fixed-width R || S.
    const auto *derData = reinterpret_cast<const unsigned char *>(der.constData());
    EcdsaSigPtr sig(d2i_ECDSA_SIG(nullptr, &derData, long(derLength)));
    if (!sig) {
        clearOpensslErrors();
        return {};
    }
    const BIGNUM *r = nullptr;
    const BIGNUM *s = nullptr;
    ECDSA_SIG_get0(sig.get(), &r, &s);
    QByteArray out(2 * kCoordinateBytes, Qt::Uninitialized);
    auto *outData = reinterpret_cast<unsigned char *>(out.data());
    if (BN_bn2binpad(r, outData, kCoordinateBytes) != kCoordinateBytes
        || BN_bn2binpad(s, outData + kCoordinateBytes, kCoordinateBytes) != kCoordinateBytes)
        return {};
    return out;
}

bool KeyPair::verifyEs256(const QByteArray &data, const QByteArray &signature) const
{
    if (!m_key || signature.size() != 2 * kCoordinateBytes)
        return false;
    const auto *raw = reinterpret_cast<const unsigned char *>(signature.constData());
    EcdsaSigPtr sig(ECDSA_SIG_new());
    BnPtr r(BN_bin2bn(raw, kCoordinateBytes, nullptr));
    BnPtr s(BN_bin2bn(raw + kCoordinateBytes, kCoordinateBytes, nullptr));
    if (!sig || !r || !s || ECDSA_SIG_set0(sig.get(), r.get(), s.get()) != 1) {
        clearOpensslErrors();
        return false;
    }
    // ECDSA_SIG_set0 took ownership.
    r.release();
    s.release();

    unsigned char *der = nullptr;
    const int derLength = i2d_ECDSA_SIG(sig.get(), &der);
    if (derLength <= 0) {
        clearOpensslErrors();
        return false;
    }
    MdCtxPtr ctx(EVP_MD_CTX_new());
    const bool ok = ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, m_key.get()) == 1
        && EVP_DigestVerify(ctx.get(), der, size_t(derLength),
                            reinterpret_cast<const unsigned char *>(data.constData()), size_t(data.size()))
            == 1;
    OPENSSL_free(der);
    clearOpensslErrors();
    return ok;
}

} // namespace keyhole::crypto
