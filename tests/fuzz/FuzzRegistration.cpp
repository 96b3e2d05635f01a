#include "FuzzSupport.h"

#include "crypto/Jws.h"
#include "crypto/KeyPair.h"
#include "crypto/RegistrationVerifier.h"
#include "util/Clock.h"

#include <QJsonDocument>

using namespace keyhole::crypto;

namespace {

// A fixed key, so that seeds holding its JWK stay meaningful across runs. Test-only; signs nothing real.
const char kFuzzKeyPem[] = "-----BEGIN PRIVATE KEY-----\n"
                           "MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQgsbt31rqca6bdvaFG\n"
                           "Jj8Wx/KIdvPcMIFlqVZmK9QtNFGhRANCAATLyYh6NIrbdIGz0H8Z0KO4OQ0y2Rd1\n"
                           "6nekL093TZyOyMo16RXxusSWIGmorvAyEcluaLJJ0EsiPfWfCMuk8DOj\n"
                           "-----END PRIVATE KEY-----\n";
constexpr qint64 kNow = 1'700'000'000;

const KeyPair &fuzzKey()
{
    static const std::optional<KeyPair> key = KeyPair::fromPrivatePem(QByteArray(kFuzzKeyPem));
    KEYHOLE_FUZZ_CHECK(key.has_value());
    return *key;
}

QByteArray b64(const QByteArray &bytes)
{
    return bytes.toBase64(QByteArray::Base64UrlEncoding | QByteArray::OmitTrailingEquals);
}

// Registration as the proxy does it: the verifier checks the JWS, then the claims, then replays.
void verifyRegistration(const QByteArray &token, bool signedByUs)
{
    keyhole::util::ManualClock clock;
    clock.setEpochSecs(kNow);
    RegistrationVerifier verifier(QStringLiteral("https://proxy.example.com"), &clock);
    const RegistrationVerifier::Result first = verifier.verify(token);
    if (first.accepted()) {
        KEYHOLE_FUZZ_CHECK(!first.label.isEmpty());
        KEYHOLE_FUZZ_CHECK(first.thumbprint.size() == 32);
        KEYHOLE_FUZZ_CHECK(verifier.verify(token).outcome == RegistrationVerifier::Outcome::Replayed);
    } else {
        KEYHOLE_FUZZ_CHECK(!first.error.isEmpty());
        if (signedByUs)
            KEYHOLE_FUZZ_CHECK(first.outcome != RegistrationVerifier::Outcome::BadSignature);
    }
}

} // namespace

// Layout: [mode][rest]. Mode 0: rest is a token as a client sends it. Mode 1: rest is the JSON claims,
// signed here with a valid key, so the claim checks behind the signature get fuzzed too. Mode 2: rest
// is "<protected header>\n<payload>", both raw, signed here: the header parser (alg, typ, jwk) with
// a signature that matches whenever the header names our key.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keyhole::fuzz::FuzzInput input(data, size);
    const uint8_t mode = input.takeByte() % 3;
    const QByteArray rest = input.rest();
    if (mode == 0) {
        QString error;
        Jws::Failure failure = Jws::Failure::None;
        const std::optional<Jws::Verified> verified = Jws::verify(rest, &error, &failure);
        KEYHOLE_FUZZ_CHECK(verified.has_value() == (failure == Jws::Failure::None));
        KEYHOLE_FUZZ_CHECK(verified.has_value() || !error.isEmpty());
        verifyRegistration(rest, false);
        return 0;
    }
    if (mode == 1) {
        const QJsonDocument claims = QJsonDocument::fromJson(rest);
        if (!claims.isObject())
            return 0;
        const QByteArray token = Jws::sign(fuzzKey(), claims.object());
        KEYHOLE_FUZZ_CHECK(!token.isEmpty());
        if (token.size() <= Jws::kMaxTokenBytes) {
            const std::optional<Jws::Verified> verified = Jws::verify(token);
            KEYHOLE_FUZZ_CHECK(verified.has_value());
            KEYHOLE_FUZZ_CHECK(verified->thumbprint == fuzzKey().thumbprint());
        }
        verifyRegistration(token, true);
        return 0;
    }
    const qsizetype split = rest.indexOf('\n');
    if (split < 0)
        return 0;
    const QByteArray signingInput = b64(rest.left(split)) + '.' + b64(rest.mid(split + 1));
    const QByteArray token = signingInput + '.' + b64(fuzzKey().signEs256(signingInput));
    QString error;
    (void)Jws::verify(token, &error);
    verifyRegistration(token, false);
    return 0;
}
