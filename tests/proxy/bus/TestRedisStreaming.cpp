// Streamed bodies (protocol 2) between proxy instances: RedisBus against a real redis-server
// started here, two buses in one process standing in for two instances.

#include "RedisServer.h"
#include "bus/redis/RedisBus.h"

#include <QTest>

#include <memory>

using namespace keyhole;
using namespace keyhole::proxy;
using keyhole::testing::RedisServer;

namespace {

struct FakeTunnel : TunnelSink {
    QList<protocol::Message> received;
    void deliverToTunnel(const protocol::Message &message) override { received.append(message); }
};

struct FakeVisitors : VisitorSink {
    QList<protocol::Message> answers;
    QList<ExchangeFailure> failures;
    void deliverToVisitor(const protocol::Message &message) override { answers.append(message); }
    void failExchange(const ExchangeFailure &failure) override { failures.append(failure); }
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

} // namespace

class TestRedisStreaming : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void init();
    void cleanup() { m_redis.reset(); }

    void testStreamedExchangeAcrossInstances();
    void testGoneVisitorInstanceCancelsAStream();

private:
    std::unique_ptr<RedisBus> makeBus(const QByteArray &id, FakeVisitors *visitors);
    bool waitClaimed(RedisBus *bus, const QString &label)
    {
        return QTest::qWaitFor([&] { return bus->epochOf(label) > 0; }, 5000);
    }

    std::unique_ptr<RedisServer> m_redis;
};

void TestRedisStreaming::init()
{
    if (RedisServer::serverProgram().isEmpty())
        QSKIP("redis-server is not installed (Debian: apt-get install redis-server)");
    m_redis = std::make_unique<RedisServer>();
    QVERIFY2(m_redis->start(), qPrintable(m_redis->errorString()));
}

std::unique_ptr<RedisBus> TestRedisStreaming::makeBus(const QByteArray &id, FakeVisitors *visitors)
{
    RedisBusOptions options;
    options.url = *RedisUrl::parse(m_redis->url(), nullptr);
    options.instanceId = id;
    options.ownershipTtlMs = 1500;
    options.commandTimeoutMs = 500;
    options.connectTimeoutMs = 500;
    options.heartbeatMs = 200;
    options.staleMs = 800;
    auto bus = std::make_unique<RedisBus>(options);
    bus->setVisitorSink(visitors);
    bus->start();
    return bus;
}

// Protocol 2: a streamed exchange's HttpBody, HttpCredit and HttpCancel take the same inboxes as its
// request and answer, in order, and the exchange lives until its last body or its cancel.
void TestRedisStreaming::testStreamedExchangeAcrossInstances()
{
    FakeVisitors visitorsA, visitorsB;
    auto a = makeBus("a", &visitorsA);
    auto b = makeBus("b", &visitorsB);
    FakeTunnel tunnel;
    a->attachTunnel("lbl", &tunnel);
    QVERIFY(waitClaimed(a.get(), "lbl"));
    QTRY_VERIFY(b->isSubscribed() && b->health().healthy);

    protocol::HttpRequest upload = request("b-1", "first");
    upload.streamed = true;
    QVERIFY(b->publishToTunnel("lbl", upload));
    QVERIFY(b->publishToTunnel("lbl", protocol::HttpBody{"b-1", "second", false}));
    QVERIFY(b->publishToTunnel("lbl", protocol::HttpBody{"b-1", "third", true}));
    QTRY_COMPARE(tunnel.received.size(), 3);
    QVERIFY(std::get<protocol::HttpRequest>(tunnel.received.at(0)).streamed);
    QCOMPARE(std::get<protocol::HttpBody>(tunnel.received.at(1)).data, QByteArray("second"));
    QVERIFY(std::get<protocol::HttpBody>(tunnel.received.at(2)).end);

    a->replyToVisitor("b-1", protocol::HttpCredit{"b-1", 11});
    protocol::HttpResponse head{"b-1", 200, {}, "part one", true};
    a->replyToVisitor("b-1", head);
    a->replyToVisitor("b-1", protocol::HttpBody{"b-1", "part two", false});
    QTRY_COMPARE(visitorsB.answers.size(), 3);
    QCOMPARE(std::get<protocol::HttpCredit>(visitorsB.answers.at(0)).bytes, 11);
    QVERIFY(std::get<protocol::HttpResponse>(visitorsB.answers.at(1)).streamed);
    QCOMPARE(std::get<protocol::HttpBody>(visitorsB.answers.at(2)).data, QByteArray("part two"));
    QCOMPARE(b->remoteExchangeCount(), 1); // still streaming

    // Credit back, then the visitor side cancels: the tunnel hears it, and the exchange is over.
    QVERIFY(b->publishToTunnel("lbl", protocol::HttpCredit{"b-1", 16}));
    QVERIFY(b->publishToTunnel("lbl", protocol::HttpCancel{"b-1", "the visitor left"}));
    QTRY_COMPARE(tunnel.received.size(), 5);
    QCOMPARE(std::get<protocol::HttpCredit>(tunnel.received.at(3)).bytes, 16);
    QCOMPARE(std::get<protocol::HttpCancel>(tunnel.received.at(4)).id, QByteArray("b-1"));
    QCOMPARE(b->remoteExchangeCount(), 0);
    a->replyToVisitor("b-1", protocol::HttpBody{"b-1", "late", true});
    QTest::qWait(300);
    QCOMPARE(visitorsB.answers.size(), 3);
}

// The visitor's instance is gone mid-stream: the tunnel side stops the exchange (HttpCancel to the
// tunnel) instead of streaming into nobody's inbox.
void TestRedisStreaming::testGoneVisitorInstanceCancelsAStream()
{
    FakeVisitors visitorsA, visitorsB;
    auto a = makeBus("a", &visitorsA);
    auto b = makeBus("b", &visitorsB);
    FakeTunnel tunnel;
    a->attachTunnel("lbl", &tunnel);
    QVERIFY(waitClaimed(a.get(), "lbl"));
    QTRY_VERIFY(b->isSubscribed() && b->health().healthy);
    protocol::HttpRequest upload = request("b-1");
    upload.streamed = true;
    QVERIFY(b->publishToTunnel("lbl", upload));
    QTRY_COMPARE(tunnel.received.size(), 1);
    b.reset();
    a->replyToVisitor("b-1", protocol::HttpResponse{"b-1", 200, {}, "head", true});
    QTRY_COMPARE(tunnel.received.size(), 2);
    QCOMPARE(std::get<protocol::HttpCancel>(tunnel.received.at(1)).id, QByteArray("b-1"));
}

QTEST_GUILESS_MAIN(TestRedisStreaming)
#include "TestRedisStreaming.moc"
