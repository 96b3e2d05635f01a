// RedisBus against a real redis-server started here on a free port: several buses in one process
// stand in for several proxy instances.

#include "RedisServer.h"
#include "TestEnvironment.h"
#include "bus/redis/RedisBus.h"
#include "bus/redis/RedisConnection.h"
#include "bus/redis/RedisEnvelope.h"
#include "bus/redis/RedisRateLimiter.h"
#include "crypto/KeyPair.h"
#include "crypto/RegistrationToken.h"
#include "crypto/RegistrationVerifier.h"
#include "crypto/ReplayCache.h"
#include "protocol/Codec.h"

#include <QDateTime>
#include <QElapsedTimer>
#include <QRandomGenerator>
#include <QSignalSpy>
#include <QTest>

#include <functional>
#include <memory>
#include <optional>

using namespace keyhole;
using namespace keyhole::proxy;
using keyhole::testing::RedisServer;

namespace {

struct FakeTunnel : TunnelSink {
    QList<protocol::Message> received;
    void deliverToTunnel(const protocol::Message &message) override { received.append(message); }
    QByteArray lastId() const
    {
        if (received.isEmpty())
            return {};
        if (const auto *r = std::get_if<protocol::HttpRequest>(&received.last()))
            return r->id;
        return {};
    }
};

struct FakeVisitors : VisitorSink {
    QList<protocol::Message> answers;
    QList<ExchangeFailure> failures;
    void deliverToVisitor(const protocol::Message &message) override { answers.append(message); }
    void failExchange(const ExchangeFailure &failure) override { failures.append(failure); }
    int statusOf(const QByteArray &id) const
    {
        for (const ExchangeFailure &f : failures) {
            if (f.id == id)
                return f.status;
        }
        return 0;
    }
};

protocol::HttpRequest request(const QByteArray &id, const QByteArray &body = {})
{
    protocol::HttpRequest r;
    r.id = id;
    r.method = "POST";
    r.path = "/";
    r.body = body;
    return r;
}

QByteArray randomBytes(qsizetype n)
{
    QByteArray out(n, '\0');
    for (auto &c : out)
        c = char(QRandomGenerator::global()->bounded(256));
    return out;
}

} // namespace

class TestRedisBus : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup();

    void testCrossInstanceRoundTrip();
    void testLocalTunnelStaysInProcess();
    void testUnknownTunnelIs404();
    void testNoSubscriberIs502AtOnce();
    void testNewestRegistrationWins();
    void testOwnershipChangeFailsInFlight();
    void testStaleAndForeignAnswersDropped();
    void testCommandTimeoutWhenRedisFrozen();
    void testReconnectResubscribeAndReclaim();
    void testLocalTunnelsServedWithoutRedis();
    void testSharedReplayCache();
    void testSharedReplayCacheHoldsOnlyAllowedTokens();
    void testSharedRateLimiter();
    void testPasswordAuth();

private:
    std::unique_ptr<RedisBus> makeBus(const QByteArray &id, FakeVisitors *visitors, const QString &url = {},
                                      const std::function<void(RedisBusOptions &)> &adjust = {});
    bool waitClaimed(RedisBus *bus, const QString &label, quint64 above = 0);

    std::unique_ptr<RedisServer> m_redis;
};

void TestRedisBus::init()
{
    if (RedisServer::serverProgram().isEmpty())
        QSKIP("redis-server is not installed (Debian: apt-get install redis-server)");
    m_redis = std::make_unique<RedisServer>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
}

void TestRedisBus::cleanup()
{
    m_redis.reset();
}

std::unique_ptr<RedisBus> TestRedisBus::makeBus(const QByteArray &id, FakeVisitors *visitors, const QString &url,
                                                const std::function<void(RedisBusOptions &)> &adjust)
{
    RedisBusOptions options;
    options.url = *RedisUrl::parse(url.isEmpty() ? m_redis->url() : url, nullptr);
    options.instanceId = id;
    options.ownershipTtlMs = 1500;
    options.commandTimeoutMs = 500;
    options.connectTimeoutMs = 500;
    options.heartbeatMs = 200;
    options.staleMs = 800;
    if (adjust)
        adjust(options);
    auto bus = std::make_unique<RedisBus>(options);
    bus->setVisitorSink(visitors);
    bus->start();
    return bus;
}

bool TestRedisBus::waitClaimed(RedisBus *bus, const QString &label, quint64 above)
{
    return QTest::qWaitFor([&] { return bus->epochOf(label) > above; }, 5000);
}

void TestRedisBus::testCrossInstanceRoundTrip()
{
    FakeVisitors visitorsA, visitorsB;
    auto a = makeBus("a", &visitorsA);
    auto b = makeBus("b", &visitorsB);
    FakeTunnel tunnel;
    a->attachTunnel("lbl", &tunnel);
    QVERIFY(waitClaimed(a.get(), "lbl"));
    QTRY_VERIFY(b->isSubscribed() && b->health().healthy);

    const QByteArray body = randomBytes(300000); // binary, every byte value
    QVERIFY(b->publishToTunnel("lbl", request("b-1", body)));
    QTRY_COMPARE(tunnel.received.size(), 1);
    const auto &got = std::get<protocol::HttpRequest>(tunnel.received.first());
    QCOMPARE(got.id, QByteArray("b-1"));
    QCOMPARE(got.body, body);

    const QByteArray answer = randomBytes(200000);
    a->replyToVisitor("b-1", protocol::HttpResponse{"b-1", 201, {{"X-A", "1"}}, answer});
    QTRY_COMPARE(visitorsB.answers.size(), 1);
    const auto &response = std::get<protocol::HttpResponse>(visitorsB.answers.first());
    QCOMPARE(response.status, 201);
    QCOMPARE(response.body, answer);
    QVERIFY(visitorsA.answers.isEmpty());
    QCOMPARE(b->remoteExchangeCount(), 0);

    // A second answer for the same id is not delivered twice.
    a->replyToVisitor("b-1", protocol::HttpResponse{"b-1", 200, {}, "again"});
    QTest::qWait(300);
    QCOMPARE(visitorsB.answers.size(), 1);
}

void TestRedisBus::testLocalTunnelStaysInProcess()
{
    FakeVisitors visitors;
    auto a = makeBus("a", &visitors);
    FakeTunnel tunnel;
    a->attachTunnel("lbl", &tunnel);
    // Delivered before publishToTunnel returns: no Redis round trip.
    QVERIFY(a->publishToTunnel("lbl", request("a-1")));
    QCOMPARE(tunnel.received.size(), 1);
    a->replyToVisitor("a-1", protocol::HttpResponse{"a-1", 200, {}, "ok"});
    QCOMPARE(visitors.answers.size(), 1);
}

void TestRedisBus::testUnknownTunnelIs404()
{
    FakeVisitors visitors;
    auto b = makeBus("b", &visitors);
    QTRY_VERIFY(b->isConnected() && b->isSubscribed()); // routing elsewhere needs our own inbox
    QVERIFY(b->publishToTunnel("nobody", request("b-1")));
    QTRY_COMPARE(visitors.statusOf("b-1"), 404);
}

// "At once": not through any timeout. Every timeout that could produce an answer otherwise is set to
// kSlowMs here, and the 502 must come within half of it; a busy machine has seconds of margin.
namespace {
constexpr int kSlowMs = 10000;

void slowTimeouts(RedisBusOptions &options)
{
    options.commandTimeoutMs = kSlowMs;
    options.ownershipTtlMs = kSlowMs;
    options.staleMs = kSlowMs;
}
} // namespace

void TestRedisBus::testNoSubscriberIs502AtOnce()
{
    FakeVisitors visitors;
    auto b = makeBus("b", &visitors, {}, slowTimeouts);
    QTRY_VERIFY(b->isConnected() && b->isSubscribed()); // routing elsewhere needs our own inbox
    // An owner key naming an instance that has died: nobody reads its inbox.
    m_redis->cli({"SET", "keyhole:owner:ghostly", "7 ghost 1", "PX", "60000"});
    QElapsedTimer timer;
    timer.start();
    QVERIFY(b->publishToTunnel("ghostly", request("b-1")));
    QTRY_COMPARE_WITH_TIMEOUT(visitors.statusOf("b-1"), 502, kSlowMs / 2);
    QVERIFY2(timer.elapsed() < kSlowMs / 2, qPrintable(QString::number(timer.elapsed())));
}

void TestRedisBus::testNewestRegistrationWins()
{
    FakeVisitors va, vb, vc;
    auto a = makeBus("a", &va);
    auto b = makeBus("b", &vb);
    auto c = makeBus("c", &vc);
    FakeTunnel onA, onB;
    a->attachTunnel("x", &onA);
    QVERIFY(waitClaimed(a.get(), "x"));
    QSignalSpy takenA(a.get(), &MessageBus::tunnelTakenElsewhere);
    QSignalSpy takenB(b.get(), &MessageBus::tunnelTakenElsewhere);
    QTest::qWait(5); // a later registration time than A's
    b->attachTunnel("x", &onB);
    QVERIFY(waitClaimed(b.get(), "x", a->epochOf("x")));
    QTRY_COMPARE(takenA.size(), 1);
    QCOMPARE(takenA.first().first().toString(), QStringLiteral("x"));
    QVERIFY(m_redis->cli({"GET", "keyhole:owner:x"}).contains(" b "));

    QTRY_VERIFY(c->isSubscribed());
    QVERIFY(c->publishToTunnel("x", request("c-1")));
    QTRY_COMPARE(onB.received.size(), 1);
    QCOMPARE(onA.received.size(), 0);

    // A's renewals must not take it back, and B is never told it was replaced.
    a->detachTunnel("x", &onA);
    QTest::qWait(700);
    QCOMPARE(takenB.size(), 0);
    QVERIFY(m_redis->cli({"GET", "keyhole:owner:x"}).contains(" b "));
}

void TestRedisBus::testOwnershipChangeFailsInFlight()
{
    // The in-flight request fails because the ownership changed, not through a timeout (see kSlowMs).
    FakeVisitors va, vb, vc;
    auto a = makeBus("a", &va, {}, slowTimeouts);
    auto b = makeBus("b", &vb, {}, slowTimeouts);
    auto c = makeBus("c", &vc, {}, slowTimeouts);
    FakeTunnel onA, onB;
    a->attachTunnel("x", &onA);
    QVERIFY(waitClaimed(a.get(), "x"));
    QTRY_VERIFY(c->isSubscribed());
    QVERIFY(c->publishToTunnel("x", request("c-1")));
    QTRY_COMPARE(onA.received.size(), 1);
    QTRY_COMPARE(c->remoteExchangeCount(), 1);

    QElapsedTimer timer;
    timer.start();
    b->attachTunnel("x", &onB);
    QTRY_COMPARE_WITH_TIMEOUT(vc.statusOf("c-1"), 502, kSlowMs / 2);
    QVERIFY2(timer.elapsed() < kSlowMs / 2, qPrintable(QString::number(timer.elapsed())));
    // The old holder's late answer is not delivered, and the request is not replayed to B.
    a->replyToVisitor("c-1", protocol::HttpResponse{"c-1", 200, {}, "late"});
    QTest::qWait(300);
    QVERIFY(vc.answers.isEmpty());
    QCOMPARE(onB.received.size(), 0);
}

void TestRedisBus::testStaleAndForeignAnswersDropped()
{
    FakeVisitors va, vc;
    auto a = makeBus("a", &va);
    auto c = makeBus("c", &vc);
    FakeTunnel onA;
    a->attachTunnel("x", &onA);
    QVERIFY(waitClaimed(a.get(), "x"));
    const quint64 epoch = a->epochOf("x");
    QTRY_VERIFY(c->isSubscribed());
    QVERIFY(c->publishToTunnel("x", request("c-1")));
    QTRY_COMPARE(onA.received.size(), 1);
    QTRY_COMPARE(c->remoteExchangeCount(), 1);

    RedisConnection raw(*RedisUrl::parse(m_redis->url(), nullptr), {});
    raw.open();
    QTRY_VERIFY(raw.isReady());
    auto inject = [&](const QByteArray &source, quint64 withEpoch, const QByteArray &body) {
        RedisEnvelope envelope;
        envelope.kind = RedisEnvelope::Kind::ToVisitor;
        envelope.epoch = withEpoch;
        envelope.source = source;
        envelope.key = "c-1";
        envelope.payload = protocol::Codec::encode(protocol::HttpResponse{"c-1", 200, {}, body});
        raw.command({"PUBLISH", "keyhole:inbox:c", envelope.encode()});
    };
    inject("a", epoch - 1, "stale epoch");
    inject("z", epoch, "foreign instance");
    raw.command({"PUBLISH", "keyhole:inbox:c", "garbage that is no envelope"});
    QTest::qWait(300);
    QVERIFY(vc.answers.isEmpty());
    inject("a", epoch, "good");
    QTRY_COMPARE(vc.answers.size(), 1);
    QCOMPARE(std::get<protocol::HttpResponse>(vc.answers.first()).body, QByteArray("good"));
}

void TestRedisBus::testCommandTimeoutWhenRedisFrozen()
{
    FakeVisitors va, vb;
    auto a = makeBus("a", &va);
    auto b = makeBus("b", &vb);
    FakeTunnel onA;
    a->attachTunnel("x", &onA);
    QVERIFY(waitClaimed(a.get(), "x"));
    QTRY_VERIFY(b->health().healthy);

    m_redis->freeze();
    QElapsedTimer timer;
    timer.start();
    QVERIFY(b->publishToTunnel("x", request("b-1")));
    QTRY_COMPARE_WITH_TIMEOUT(vb.statusOf("b-1"), 503, 3000);
    QVERIFY2(timer.elapsed() < 1500, qPrintable(QString::number(timer.elapsed())));
    QTRY_VERIFY(!b->health().healthy);
    // The holder keeps serving in process meanwhile.
    QVERIFY(a->publishToTunnel("x", request("a-1")));
    QCOMPARE(onA.received.size(), 1);

    m_redis->thaw();
    QTRY_VERIFY_WITH_TIMEOUT(b->health().healthy && a->health().healthy, 10000);
    QVERIFY(b->publishToTunnel("x", request("b-2")));
    QTRY_COMPARE(onA.received.size(), 2);
}

void TestRedisBus::testReconnectResubscribeAndReclaim()
{
    FakeVisitors va, vb;
    auto a = makeBus("a", &va);
    auto b = makeBus("b", &vb);
    FakeTunnel onA;
    a->attachTunnel("x", &onA);
    QVERIFY(waitClaimed(a.get(), "x"));
    const quint64 before = a->epochOf("x");

    QVERIFY2(m_redis->restart(), qPrintable(m_redis->errorString())); // empty: keys and subscriptions gone
    QTRY_VERIFY_WITH_TIMEOUT(a->epochOf("x") > before, 10000);        // claimed again, with a larger epoch
    QTRY_VERIFY_WITH_TIMEOUT(a->isSubscribed() && b->isSubscribed() && b->isConnected(), 10000);
    QCOMPARE(m_redis->subscriberCount("keyhole:inbox:a"), 1);
    QVERIFY(m_redis->cli({"GET", "keyhole:owner:x"}).contains(" a "));
    QVERIFY(b->publishToTunnel("x", request("b-1")));
    QTRY_COMPARE(onA.received.size(), 1);
    // Two connections per instance, never more.
    QCOMPARE(m_redis->clientCount(), 4);
}

void TestRedisBus::testLocalTunnelsServedWithoutRedis()
{
    FakeVisitors visitors;
    auto a = makeBus("a", &visitors, QStringLiteral("redis://127.0.0.1:%1").arg(testing::freeTcpPort()));
    FakeTunnel tunnel;
    a->attachTunnel("x", &tunnel);
    QVERIFY(a->publishToTunnel("x", request("a-1")));
    QCOMPARE(tunnel.received.size(), 1);
    QVERIFY(!a->health().healthy);
    // A tunnel elsewhere cannot be reached: 503, at once.
    QVERIFY(a->publishToTunnel("y", request("a-2")));
    QCOMPARE(visitors.statusOf("a-2"), 503);
}

void TestRedisBus::testSharedReplayCache()
{
    FakeVisitors va, vb;
    auto a = makeBus("a", &va);
    auto b = makeBus("b", &vb);
    QTRY_VERIFY(a->isConnected() && b->isConnected());
    std::optional<crypto::ReplayCache::Verdict> first, second;
    a->sharedReplayCache()->remember("thumbprint+jti-1", 60, [&](auto v) { first = v; });
    QTRY_VERIFY(first.has_value());
    QCOMPARE(*first, crypto::ReplayCache::Verdict::Fresh);
    b->sharedReplayCache()->remember("thumbprint+jti-1", 60, [&](auto v) { second = v; });
    QTRY_VERIFY(second.has_value());
    QCOMPARE(*second, crypto::ReplayCache::Verdict::Replayed);
}

void TestRedisBus::testSharedRateLimiter()
{
    FakeVisitors va, vb;
    auto a = makeBus("a", &va);
    auto b = makeBus("b", &vb);
    QTRY_VERIFY(a->isConnected() && b->isConnected());
    {
        auto onA = a->rateLimiterFor("x", 0.5, 5, nullptr);
        QTRY_VERIFY(static_cast<RedisRateLimiter *>(onA.get())->isLoaded());
        for (int i = 0; i < 5; ++i)
            QVERIFY(onA->tryAcquire());
        QVERIFY(!onA->tryAcquire());
    } // the tunnel leaves A: its state is saved
    QTRY_VERIFY(!m_redis->cli({"HGET", "keyhole:rate:x", "tokens"}).isEmpty());
    auto onB = b->rateLimiterFor("x", 0.5, 5, nullptr);
    QTRY_VERIFY(static_cast<RedisRateLimiter *>(onB.get())->isLoaded());
    QVERIFY2(!onB->tryAcquire(), "the bucket followed the tunnel: still empty on B");
    QVERIFY(onB->retryAfterMs() > 0);
    // A label never seen starts full.
    auto other = b->rateLimiterFor("y", 0.5, 5, nullptr);
    QTRY_VERIFY(static_cast<RedisRateLimiter *>(other.get())->isLoaded());
    QVERIFY(other->tryAcquire());
}

// README: --redis redis://:password@host:port. Against a redis-server that requires a password, the
// right one carries a round trip between two instances; a wrong or missing one never connects.
void TestRedisBus::testPasswordAuth()
{
    RedisServer secured;
    QVERIFY2(secured.start({QStringLiteral("--requirepass"), QStringLiteral("s3cr@t")}),
             qPrintable(secured.errorString()));
    const QString good = QStringLiteral("redis://:s3cr%40t@127.0.0.1:%1").arg(secured.port());
    FakeVisitors visitorsA, visitorsB, visitorsWrong, visitorsNone;
    auto a = makeBus("a", &visitorsA, good);
    auto b = makeBus("b", &visitorsB, good);
    auto wrong = makeBus("w", &visitorsWrong, QStringLiteral("redis://:nope@127.0.0.1:%1").arg(secured.port()));
    auto none = makeBus("n", &visitorsNone, QStringLiteral("redis://127.0.0.1:%1").arg(secured.port()));
    FakeTunnel tunnel;
    a->attachTunnel("lbl", &tunnel);
    QVERIFY(waitClaimed(a.get(), "lbl"));
    QTRY_VERIFY(b->isSubscribed() && b->health().healthy);
    QVERIFY(b->publishToTunnel("lbl", request("b-1")));
    QTRY_COMPARE(tunnel.received.size(), 1);
    a->replyToVisitor("b-1", protocol::HttpResponse{"b-1", 200, {}, "through an authenticated Redis"});
    QTRY_COMPARE(visitorsB.answers.size(), 1);

    // By now (the good ones connected, claimed and answered) the others have had their handshakes refused.
    QTRY_VERIFY(!wrong->health().healthy && !none->health().healthy);
    QVERIFY(!wrong->isConnected() && !wrong->isSubscribed());
    QVERIFY(!none->isConnected() && !none->isSubscribed());
}

QTEST_GUILESS_MAIN(TestRedisBus)
#include "TestRedisBus.moc"

void TestRedisBus::testSharedReplayCacheHoldsOnlyAllowedTokens()
{
    // What the instances share in Redis is written only for tokens this instance accepted: keys that
    // are not authorized, and a key past its own share, leave nothing there.
    FakeVisitors visitors;
    auto a = makeBus("a", &visitors);
    QTRY_VERIFY(a->isConnected());
    const auto countJti = [this] {
        const QByteArray keys = m_redis->cli({"KEYS", "keyhole:jti:*"}).trimmed();
        return keys.isEmpty() ? 0 : int(keys.count('\n') + 1);
    };
    const int before = countJti();

    const QString audience = QStringLiteral("https://proxy.example.com");
    crypto::RegistrationVerifier verifier(audience, nullptr, 1000, 2);
    verifier.setSharedReplayCache(a->sharedReplayCache());
    auto allowedKey = crypto::KeyPair::generate();
    QVERIFY(allowedKey);
    const QByteArray allowedThumbprint = allowedKey->thumbprint();
    const crypto::RegistrationVerifier::KeyFilter allowed =
        [allowedThumbprint](const QByteArray &thumbprint, const QString &) { return thumbprint == allowedThumbprint; };
    int answered = 0;
    int accepted = 0;
    const auto count = [&](const crypto::RegistrationVerifier::Result &result) {
        ++answered;
        accepted += result.accepted() ? 1 : 0;
    };
    const qint64 now = QDateTime::currentSecsSinceEpoch();
    for (int i = 0; i < 20; ++i) {
        auto throwaway = crypto::KeyPair::generate();
        QVERIFY(throwaway);
        verifier.verify(crypto::RegistrationToken::create(*throwaway, audience, {}, now), allowed, count);
    }
    for (int i = 0; i < 10; ++i)
        verifier.verify(crypto::RegistrationToken::create(*allowedKey, audience, {}, now), allowed, count);
    QTRY_COMPARE(answered, 30);
    QCOMPARE(accepted, 2);
    QCOMPARE(countJti() - before, 2);
}
