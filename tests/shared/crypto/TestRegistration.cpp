#include "CryptoTestUtil.h"

#include "crypto/Jws.h"
#include "crypto/KeyPair.h"
#include "crypto/Label.h"
#include "crypto/RegistrationToken.h"
#include "crypto/RegistrationVerifier.h"
#include "crypto/ReplayCache.h"
#include "util/Clock.h"

#include <QCoreApplication>
#include <QDateTime>
#include <QJsonArray>
#include <QJsonDocument>
#include <QSet>
#include <QThread>
#include <QTest>

#include <algorithm>

using namespace keyhole::crypto;
using keyhole::util::ManualClock;
using Outcome = RegistrationVerifier::Outcome;

Q_DECLARE_METATYPE(keyhole::crypto::RegistrationVerifier::Outcome)

namespace {

const QString kAudience = QStringLiteral("https://proxy.example.com");
constexpr qint64 kIssuedAt = 1'700'000'000;

QJsonObject decodePayload(const QByteArray &token)
{
    const QByteArray part = QByteArray::fromBase64(token.split('.').value(1), QByteArray::Base64UrlEncoding);
    return QJsonDocument::fromJson(part).object();
}

QJsonObject validClaims(qint64 iat = kIssuedAt)
{
    return QJsonObject{{"aud", kAudience}, {"iat", iat}, {"exp", iat + 60}, {"jti", "0123456789abcdef"}};
}

} // namespace

class TestRegistration : public QObject
{
    Q_OBJECT

private:
    std::optional<KeyPair> m_key;
    ManualClock m_clock;

    RegistrationVerifier::Result verifyAt(qint64 nowSecs, const QByteArray &token, const QString &audience = kAudience)
    {
        m_clock.setEpochSecs(nowSecs);
        RegistrationVerifier verifier(audience, &m_clock);
        return verifier.verify(token);
    }

private Q_SLOTS:
    void initTestCase()
    {
        m_key = KeyPair::generate();
        QVERIFY(m_key);
    }

    void createdTokenClaims()
    {
        const QByteArray token = RegistrationToken::create(*m_key, kAudience, QString(), kIssuedAt);
        QVERIFY(Jws::verify(token));
        const QJsonObject claims = decodePayload(token);
        QCOMPARE(claims.value("aud").toString(), kAudience);
        QCOMPARE(claims.value("iat").toInteger(), kIssuedAt);
        QCOMPARE(claims.value("exp").toInteger(), kIssuedAt + RegistrationToken::kLifetimeSecs);
        QCOMPARE(claims.value("jti").toString().size(), 22); // 16 random bytes, base64url
        QVERIFY(!claims.contains("name"));

        const QJsonObject named = decodePayload(RegistrationToken::create(*m_key, kAudience, "web", kIssuedAt));
        QCOMPARE(named.value("name").toString(), QStringLiteral("web"));
    }

    void jtiIsFresh()
    {
        QSet<QString> seen;
        for (int i = 0; i < 50; ++i) {
            const QByteArray token = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt);
            seen.insert(decodePayload(token).value("jti").toString());
        }
        QCOMPARE(seen.size(), 50);
    }

    void accepted_data()
    {
        QTest::addColumn<QString>("name");
        QTest::newRow("no name") << QString();
        QTest::newRow("named") << "web";
    }

    void accepted()
    {
        QFETCH(QString, name);
        const auto result = verifyAt(kIssuedAt, RegistrationToken::create(*m_key, kAudience, name, kIssuedAt));
        QVERIFY2(result.accepted(), qPrintable(result.error));
        QCOMPARE(result.outcome, Outcome::Accepted);
        QCOMPARE(result.thumbprint, m_key->thumbprint());
        QCOMPARE(result.name, name);
        QCOMPARE(result.label, labelForKey(*m_key, name));
        QVERIFY(isValidLabel(result.label));
    }

    void vectorKeyLabel_data()
    {
        QTest::addColumn<QString>("name");
        QTest::addColumn<QString>("label");
        QTest::newRow("no name") << QString() << testvectors::kLabel;
        QTest::newRow("web") << "web" << testvectors::kLabelWeb;
    }

    void vectorKeyLabel()
    {
        QFETCH(QString, name);
        QFETCH(QString, label);
        const auto pem = testvectors::readVectorPem(QStringLiteral("key-p256-pkcs8.pem"));
        if (!pem)
            QFAIL("key vectors not found in $KEYHOLE_TEST_VECTORS (tests/data/key-vectors)");
        auto key = KeyPair::fromPrivatePem(*pem);
        QVERIFY(key);
        const auto result = verifyAt(kIssuedAt, RegistrationToken::create(*key, kAudience, name, kIssuedAt));
        QVERIFY2(result.accepted(), qPrintable(result.error));
        QCOMPARE(result.label, label);
    }

    void timeWindow_data()
    {
        QTest::addColumn<qint64>("nowOffset"); // now - iat; exp = iat + 60, skew 60
        QTest::addColumn<Outcome>("expected");
        QTest::newRow("at iat") << qint64(0) << Outcome::Accepted;
        QTest::newRow("at exp") << qint64(60) << Outcome::Accepted;
        QTest::newRow("at exp + skew") << qint64(120) << Outcome::Accepted;
        QTest::newRow("one past exp + skew") << qint64(121) << Outcome::Expired;
        QTest::newRow("a day late") << qint64(86400) << Outcome::Expired;
        QTest::newRow("iat = now + skew") << qint64(-60) << Outcome::Accepted;
        QTest::newRow("iat one past now + skew") << qint64(-61) << Outcome::NotYetValid;
        QTest::newRow("a day early") << qint64(-86400) << Outcome::NotYetValid;
    }

    void timeWindow()
    {
        QFETCH(qint64, nowOffset);
        QFETCH(Outcome, expected);
        const QByteArray token = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt);
        const auto result = verifyAt(kIssuedAt + nowOffset, token);
        QCOMPARE(result.outcome, expected);
        QCOMPARE(result.accepted(), expected == Outcome::Accepted);
        if (!result.accepted()) {
            QVERIFY(!result.error.isEmpty());
            QVERIFY(result.label.isEmpty());
        }
    }

    void audience_data()
    {
        QTest::addColumn<QString>("expectedAudience");
        QTest::addColumn<QString>("tokenAudience");
        QTest::addColumn<bool>("match");
        QTest::newRow("same") << kAudience << kAudience << true;
        QTest::newRow("case and default port") << "http://localhost"
                                               << "http://LocalHost:80/" << true;
        QTest::newRow("reverse") << "http://LocalHost:80/"
                                 << "http://localhost" << true;
        QTest::newRow("https default port") << "https://proxy.example.com"
                                            << "HTTPS://Proxy.Example.COM:443/" << true;
        QTest::newRow("wss default port") << "wss://proxy.example.com/"
                                          << "wss://proxy.example.com:443" << true;
        QTest::newRow("path trailing slash") << "https://example.com/tunnel"
                                             << "https://example.com/tunnel/" << true;
        QTest::newRow("other host") << kAudience << "https://evil.example.com" << false;
        QTest::newRow("suffix host") << kAudience << "https://proxy.example.com.evil.com" << false;
        QTest::newRow("other scheme") << "https://example.com"
                                      << "http://example.com" << false;
        QTest::newRow("other port") << "https://example.com"
                                    << "https://example.com:8443" << false;
        QTest::newRow("port 80 on https") << "https://example.com"
                                          << "https://example.com:80" << false;
        QTest::newRow("other path") << "https://example.com/a"
                                    << "https://example.com/b" << false;
        QTest::newRow("path case") << "https://example.com/a"
                                   << "https://example.com/A" << false;
        QTest::newRow("empty token aud") << kAudience << "" << false;
        QTest::newRow("relative") << kAudience << "proxy.example.com" << false;
        QTest::newRow("both empty") << ""
                                    << "" << false;
        QTest::newRow("both junk") << "not a url"
                                   << "not a url" << false;
    }

    void audience()
    {
        QFETCH(QString, expectedAudience);
        QFETCH(QString, tokenAudience);
        QFETCH(bool, match);
        const QByteArray token = RegistrationToken::create(*m_key, tokenAudience, {}, kIssuedAt);
        const auto result = verifyAt(kIssuedAt, token, expectedAudience);
        QCOMPARE(result.outcome, match ? Outcome::Accepted : Outcome::WrongAudience);
    }

    void normalizeAudience_data()
    {
        QTest::addColumn<QString>("input");
        QTest::addColumn<QString>("expected");
        QTest::newRow("plain") << "https://example.com"
                               << "https://example.com";
        QTest::newRow("mixed case, port, slash") << "HTTP://LocalHost:80/"
                                                 << "http://localhost";
        QTest::newRow("non-default port kept") << "http://localhost:8080/"
                                               << "http://localhost:8080";
        QTest::newRow("path kept") << "https://Example.com/Base//"
                                   << "https://example.com/Base";
        QTest::newRow("no host") << "https://"
                                 << "";
        QTest::newRow("relative") << "example.com"
                                  << "";
        QTest::newRow("empty") << ""
                               << "";
    }

    void normalizeAudience()
    {
        QFETCH(QString, input);
        QFETCH(QString, expected);
        QCOMPARE(RegistrationVerifier::normalizeAudience(input), expected);
    }

    void malformedClaims_data()
    {
        QTest::addColumn<QJsonObject>("claims");
        const QJsonObject good = validClaims();
        auto with = [&good](const QString &member, const QJsonValue &value) {
            QJsonObject copy = good;
            copy.insert(member, value);
            return copy;
        };
        auto without = [&good](const QString &member) {
            QJsonObject copy = good;
            copy.remove(member);
            return copy;
        };
        QTest::newRow("aud missing") << without("aud");
        QTest::newRow("aud number") << with("aud", 5);
        QTest::newRow("aud array") << with("aud", QJsonArray{kAudience});
        QTest::newRow("iat missing") << without("iat");
        QTest::newRow("exp missing") << without("exp");
        QTest::newRow("iat string") << with("iat", QString::number(kIssuedAt));
        QTest::newRow("exp fractional") << with("exp", double(kIssuedAt) + 30.5);
        QTest::newRow("exp huge") << with("exp", 1e300);
        QTest::newRow("lifetime 61") << with("exp", kIssuedAt + 61);
        QTest::newRow("exp = iat") << with("exp", kIssuedAt);
        QTest::newRow("exp before iat") << with("exp", kIssuedAt - 1);
        QTest::newRow("jti missing") << without("jti");
        QTest::newRow("jti number") << with("jti", 12345678);
        QTest::newRow("jti 7 chars") << with("jti", "abcdefg");
        QTest::newRow("jti 65 chars") << with("jti", QString(65, 'a'));
        QTest::newRow("jti with space") << with("jti", "abcd efgh");
        QTest::newRow("name empty") << with("name", "");
        QTest::newRow("name number") << with("name", 7);
        QTest::newRow("name leading dash") << with("name", "-web");
        QTest::newRow("name uppercase") << with("name", "Web");
        QTest::newRow("name dot") << with("name", "a.b");
    }

    void malformedClaims()
    {
        QFETCH(QJsonObject, claims);
        const auto result = verifyAt(kIssuedAt, Jws::sign(*m_key, claims));
        QCOMPARE(result.outcome, Outcome::Malformed);
        QVERIFY(!result.error.isEmpty());
        QVERIFY(result.label.isEmpty());
    }

    void edgeClaimsAccepted_data()
    {
        QTest::addColumn<QJsonObject>("claims");
        QJsonObject shortLived = validClaims();
        shortLived.insert("exp", kIssuedAt + 1);
        QJsonObject jti8 = validClaims();
        jti8.insert("jti", "abcdefgh");
        QJsonObject jti64 = validClaims();
        jti64.insert("jti", QString(64, 'z'));
        QJsonObject longName = validClaims();
        longName.insert("name", QString(63, 'n'));
        QTest::newRow("lifetime 1") << shortLived;
        QTest::newRow("jti 8 chars") << jti8;
        QTest::newRow("jti 64 chars") << jti64;
        QTest::newRow("name 63 chars") << longName;
    }

    void edgeClaimsAccepted()
    {
        QFETCH(QJsonObject, claims);
        const auto result = verifyAt(kIssuedAt, Jws::sign(*m_key, claims));
        QVERIFY2(result.accepted(), qPrintable(result.error));
    }

    void badSignatureAndMalformedToken()
    {
        const QByteArray token = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt);
        QList<QByteArray> parts = token.split('.');
        QJsonObject claims = decodePayload(token);
        claims.insert("name", "stolen");
        parts[1] = testutil::b64(testutil::json(claims));
        const auto tampered = verifyAt(kIssuedAt, parts.join('.'));
        QCOMPARE(tampered.outcome, Outcome::BadSignature);
        QVERIFY(tampered.label.isEmpty());

        QCOMPARE(verifyAt(kIssuedAt, "garbage").outcome, Outcome::Malformed);
        QCOMPARE(verifyAt(kIssuedAt, QByteArray()).outcome, Outcome::Malformed);
    }

    void asynchronousVerifyAnswersOnTheCallingThread()
    {
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock);
        const QByteArray token = RegistrationToken::create(*m_key, kAudience, "web", kIssuedAt);
        QList<QByteArray> parts = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt).split('.');
        QJsonObject claims = decodePayload(parts.join('.'));
        claims.insert("name", "stolen");
        parts[1] = testutil::b64(testutil::json(claims));
        const QByteArray tampered = parts.join('.');

        QList<RegistrationVerifier::Result> results;
        QList<QThread *> threads;
        for (const QByteArray &t : {token, tampered, token}) {
            verifier.verify(t, {}, [&](const RegistrationVerifier::Result &r) {
                results.append(r);
                threads.append(QThread::currentThread());
            });
        }
        QVERIFY(results.isEmpty()); // the signatures are checked elsewhere; nothing answers at once
        QTRY_COMPARE(results.size(), 3);
        QCOMPARE(threads, QList<QThread *>(3, QThread::currentThread()));
        // Whatever order the workers finish in, the claims are checked here, one at a time: the
        // token is accepted once and its replay refused.
        QList<Outcome> outcomes;
        for (const auto &r : results)
            outcomes.append(r.outcome);
        std::sort(outcomes.begin(), outcomes.end());
        QCOMPARE(outcomes, (QList<Outcome>{Outcome::Accepted, Outcome::BadSignature, Outcome::Replayed}));
        for (const auto &r : results) {
            if (r.accepted())
                QCOMPARE(r.label, labelForThumbprint(m_key->thumbprint(), QStringLiteral("web")));
        }
    }

    void queuedChecksAreBounded()
    {
        // Past kMaxQueuedChecks unanswered checks, the next are done on the calling thread, at once:
        // a peer that registers faster than the workers verify cannot grow the queue.
        m_clock.setEpochSecs(kIssuedAt);
        constexpr int kExtra = 20;
        constexpr int kTotal = RegistrationVerifier::kMaxQueuedChecks + kExtra;
        RegistrationVerifier verifier(kAudience, &m_clock, RegistrationVerifier::kMaxRememberedTokens, kTotal);
        int answered = 0;
        int answeredAtOnce = 0;
        int accepted = 0;
        for (int i = 0; i < kTotal; ++i) {
            const int before = answered;
            verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt), {},
                            [&](const RegistrationVerifier::Result &r) {
                                ++answered;
                                accepted += r.accepted() ? 1 : 0;
                            });
            if (answered > before)
                ++answeredAtOnce;
        }
        QCOMPARE(answeredAtOnce, kExtra);
        QTRY_COMPARE(answered, kTotal);
        QCOMPARE(accepted, kTotal);
        // Answered, the queue has room again.
        bool last = false;
        verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt), {},
                        [&](const RegistrationVerifier::Result &) { last = true; });
        QVERIFY(!last);
        QTRY_VERIFY(last);
    }

    void verifierDestroyedBeforeItsWorkersAnswer()
    {
        m_clock.setEpochSecs(kIssuedAt);
        int answered = 0;
        {
            RegistrationVerifier verifier(kAudience, &m_clock);
            for (int i = 0; i < 50; ++i) {
                verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt), {},
                                [&answered](const RegistrationVerifier::Result &) { ++answered; });
            }
        }
        // Its destructor waited for the workers; answers they queued to it were dropped with it.
        QCoreApplication::sendPostedEvents();
        QCoreApplication::processEvents();
        QCOMPARE(answered, 0);
    }

    void replayed()
    {
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock);
        const QByteArray token = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt);
        QVERIFY(verifier.verify(token).accepted());
        const auto again = verifier.verify(token);
        QCOMPARE(again.outcome, Outcome::Replayed);
        QVERIFY(again.label.isEmpty());

        // Still refused at the last second the token is valid, so pruning must not forget it early.
        m_clock.setEpochSecs(kIssuedAt + 120);
        QCOMPARE(verifier.verify(token).outcome, Outcome::Replayed);
        m_clock.setEpochSecs(kIssuedAt + 121);
        QCOMPARE(verifier.verify(token).outcome, Outcome::Expired);

        // A new token from the same key is fine.
        QVERIFY(verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt + 121)).accepted());
    }

    void sameJtiOtherKey()
    {
        // jti values are scoped by key, so one client cannot burn another's.
        auto other = KeyPair::generate();
        QVERIFY(other);
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock);
        QVERIFY(verifier.verify(Jws::sign(*m_key, validClaims())).accepted());
        QVERIFY(verifier.verify(Jws::sign(*other, validClaims())).accepted());
        QCOMPARE(verifier.verify(Jws::sign(*m_key, validClaims())).outcome, Outcome::Replayed);
    }

    void busyWhenFull()
    {
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock, 3);
        QByteArray first;
        for (int i = 0; i < 3; ++i) {
            const QByteArray token = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt);
            if (first.isEmpty())
                first = token;
            QVERIFY(verifier.verify(token).accepted());
        }
        const QByteArray fourth = RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt);
        const auto busy = verifier.verify(fourth);
        QCOMPARE(busy.outcome, Outcome::Busy);
        QVERIFY(!busy.error.isEmpty());
        // A replay is still called a replay when the cache is full.
        QCOMPARE(verifier.verify(first).outcome, Outcome::Replayed);

        // Still full while the remembered tokens could be replayed...
        m_clock.setEpochSecs(kIssuedAt + 120);
        QCOMPARE(verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt + 120)).outcome,
                 Outcome::Busy);
        // ...and room again once they have expired.
        m_clock.setEpochSecs(kIssuedAt + 121);
        QVERIFY(verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt + 121)).accepted());
    }

    void unauthorizedFloodLeavesRoomForAllowedKeys()
    {
        // Throwaway keys cost nothing to make; on a proxy with authorized keys none of their tokens
        // may take a place in the replay cache, or a stream of them would lock the listed keys out.
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock, 4);
        const QByteArray allowedThumbprint = m_key->thumbprint();
        const RegistrationVerifier::KeyFilter allowed = [allowedThumbprint](const QByteArray &thumbprint,
                                                                            const QString &) {
            return thumbprint == allowedThumbprint;
        };
        for (int i = 0; i < 20; ++i) {
            auto throwaway = KeyPair::generate();
            QVERIFY(throwaway);
            const auto refused = verifier.verify(RegistrationToken::create(*throwaway, kAudience, {}, kIssuedAt),
                                                 allowed);
            QCOMPARE(refused.outcome, Outcome::Unauthorized);
            QVERIFY(!refused.retryable());
            QVERIFY(refused.label.isEmpty());
            QVERIFY(refused.error.contains(labelForKey(*throwaway)));
        }
        const auto result = verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt), allowed);
        QVERIFY2(result.accepted(), qPrintable(result.error));
        QCOMPARE(result.label, labelForKey(*m_key));
    }

    void keyFilterSeesTheNamedLabel()
    {
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock);
        const QString named = labelForKey(*m_key, QStringLiteral("web"));
        const RegistrationVerifier::KeyFilter allowed = [named](const QByteArray &, const QString &label) {
            return label == named;
        };
        QVERIFY(verifier.verify(RegistrationToken::create(*m_key, kAudience, "web", kIssuedAt), allowed).accepted());
        QCOMPARE(verifier.verify(RegistrationToken::create(*m_key, kAudience, "api", kIssuedAt), allowed).outcome,
                 Outcome::Unauthorized);
    }

    void oneKeyCannotFillTheCache()
    {
        // An allowed key (or, on an open proxy, any key) registering in a loop fills its own share
        // of the cache, not everyone's.
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock, 10, 3);
        auto flooder = KeyPair::generate();
        QVERIFY(flooder);
        int accepted = 0;
        for (int i = 0; i < 20; ++i) {
            const auto result = verifier.verify(RegistrationToken::create(*flooder, kAudience, {}, kIssuedAt));
            if (result.accepted()) {
                ++accepted;
                continue;
            }
            QCOMPARE(result.outcome, Outcome::Busy);
            QVERIFY(result.retryable());
        }
        QCOMPARE(accepted, 3);
        const auto other = verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt));
        QVERIFY2(other.accepted(), qPrintable(other.error));

        // The flooder's share comes back once its tokens can no longer be replayed.
        m_clock.setEpochSecs(kIssuedAt + 121);
        QVERIFY(verifier.verify(RegistrationToken::create(*flooder, kAudience, {}, kIssuedAt + 121)).accepted());
    }

    void sharedCacheAskedOnlyForAcceptedTokens()
    {
        // The shared (Redis) cache is written after the local checks, so it is bounded as they are.
        struct CountingCache : ReplayCache {
            void remember(const QByteArray &, qint64, Done done) override
            {
                ++calls;
                done(Verdict::Fresh);
            }
            int calls = 0;
        } shared;
        m_clock.setEpochSecs(kIssuedAt);
        RegistrationVerifier verifier(kAudience, &m_clock, 100, 2);
        verifier.setSharedReplayCache(&shared);
        const QByteArray allowedThumbprint = m_key->thumbprint();
        const RegistrationVerifier::KeyFilter allowed = [allowedThumbprint](const QByteArray &thumbprint,
                                                                            const QString &) {
            return thumbprint == allowedThumbprint;
        };
        QList<Outcome> outcomes;
        const auto record = [&outcomes](const RegistrationVerifier::Result &result) {
            outcomes.append(result.outcome);
        };
        for (int i = 0; i < 5; ++i) {
            auto throwaway = KeyPair::generate();
            QVERIFY(throwaway);
            verifier.verify(RegistrationToken::create(*throwaway, kAudience, {}, kIssuedAt), allowed, record);
        }
        for (int i = 0; i < 5; ++i)
            verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, kIssuedAt), allowed, record);
        // Signatures are checked on worker threads, which may finish in any order.
        QTRY_COMPARE(outcomes.size(), 10);
        std::sort(outcomes.begin(), outcomes.end());
        QCOMPARE(outcomes,
                 (QList<Outcome>{Outcome::Accepted, Outcome::Accepted, Outcome::Unauthorized, Outcome::Unauthorized,
                                 Outcome::Unauthorized, Outcome::Unauthorized, Outcome::Unauthorized, Outcome::Busy,
                                 Outcome::Busy, Outcome::Busy}));
        QCOMPARE(shared.calls, 2);
    }

    void defaultClockIsSystem()
    {
        const auto *clock = keyhole::util::Clock::system();
        QVERIFY(clock);
        QCOMPARE(clock, keyhole::util::Clock::system());
        QVERIFY(qAbs(clock->epochSecs() - QDateTime::currentSecsSinceEpoch()) <= 1);
        const qint64 before = clock->monotonicMs();
        QVERIFY(before >= 0);
        QVERIFY(clock->monotonicMs() >= before);

        RegistrationVerifier verifier(kAudience, clock);
        const qint64 now = clock->epochSecs();
        QVERIFY(verifier.verify(RegistrationToken::create(*m_key, kAudience, {}, now)).accepted());
    }
};

QTEST_GUILESS_MAIN(TestRegistration)
#include "TestRegistration.moc"
