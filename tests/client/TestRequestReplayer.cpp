#include "CannedHttpService.h"
#include "RequestReplayer.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTest>

using keyhole::client::RequestRecord;
using keyhole::client::RequestReplayer;

namespace {

// The local service: records what arrives and answers each complete request with 201.
class Service : public keyhole::testing::CannedHttpService
{
public:
    Service()
        : CannedHttpService("HTTP/1.1 201 Created\r\nX-Answer: again\r\nContent-Length: 4\r\n\r\ndone")
    {
        QVERIFY(isListening());
    }
};

RequestRecord captured(const QByteArray &body, qint64 bytesIn)
{
    RequestRecord r;
    r.id = "req-7";
    r.method = "PUT";
    r.path = "/upload";
    r.query = "x=1";
    r.requestHeaders = {{"Host", "abc.localhost:8080"}, {"X-A", "b"}};
    r.requestBodyPreview = body;
    r.bytesIn = bytesIn;
    return r;
}

} // namespace

// The request log's replay: the captured request goes to the local service again, and its answer
// comes back as a record of its own.
class TestRequestReplayer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testReplaysTheCapturedRequest()
    {
        Service service;
        RequestReplayer replayer;
        QSignalSpy finished(&replayer, &RequestReplayer::finished);
        QVERIFY(replayer.replay(captured("hello", 5), service.url()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);

        QCOMPARE(service.requests(), 1);
        QVERIFY2(service.received().startsWith("PUT /upload?x=1 HTTP/1.1\r\n"), service.received().constData());
        QVERIFY(service.received().contains("Host: abc.localhost:8080\r\n")); // the visitor's Host, as captured
        QVERIFY(service.received().contains("X-A: b\r\n"));
        QVERIFY(service.received().endsWith("\r\n\r\nhello"));

        QCOMPARE(finished.first().at(0).toByteArray(), QByteArray("req-7"));
        const auto result = finished.first().at(1).value<RequestRecord>();
        QCOMPARE(result.status, 201);
        QCOMPARE(result.responseBodyPreview, QByteArray("done"));
        QVERIFY(result.id != "req-7"); // a replay is an exchange of its own
    }

    void testIsBodyTruncated_data()
    {
        QTest::addColumn<QByteArray>("preview");
        QTest::addColumn<qint64>("bytesIn");
        QTest::addColumn<bool>("truncated");
        QTest::newRow("no body") << QByteArray() << qint64(0) << false;
        QTest::newRow("whole body") << QByteArray(RequestRecord::kPreviewBytes, 'z')
                                    << qint64(RequestRecord::kPreviewBytes) << false;
        QTest::newRow("one byte more") << QByteArray(RequestRecord::kPreviewBytes, 'z')
                                       << qint64(RequestRecord::kPreviewBytes + 1) << true;
    }

    void testIsBodyTruncated()
    {
        QFETCH(QByteArray, preview);
        QFETCH(qint64, bytesIn);
        QFETCH(bool, truncated);
        QCOMPARE(RequestReplayer::isBodyTruncated(captured(preview, bytesIn)), truncated);
    }

    void testRefusesATruncatedBody_data()
    {
        QTest::addColumn<qint64>("bytesIn");
        QTest::addColumn<bool>("flagged");
        QTest::newRow("longer than the preview") << qint64(10) << false;
        QTest::newRow("flagged truncated") << qint64(3) << true;
    }

    void testRefusesATruncatedBody()
    {
        // Only the preview of a body is kept: replaying a part would send the service another request.
        QFETCH(qint64, bytesIn);
        QFETCH(bool, flagged);
        Service service;
        RequestReplayer replayer;
        QSignalSpy finished(&replayer, &RequestReplayer::finished);
        RequestRecord record = captured("abc", bytesIn);
        record.requestBodyTruncated = flagged;
        QVERIFY(!replayer.replay(record, service.url()));
        QTest::qWait(0); // a refused replay says nothing, not even later
        QCOMPARE(finished.size(), 0);
        QCOMPARE(service.requests(), 0);
    }

    void testFollowsANewTarget()
    {
        Service first;
        Service second;
        RequestReplayer replayer;
        QSignalSpy finished(&replayer, &RequestReplayer::finished);
        QVERIFY(replayer.replay(captured({}, 0), first.url()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        QVERIFY(replayer.replay(captured({}, 0), second.url()));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 2, 10000);
        QCOMPARE(first.requests(), 1);
        QCOMPARE(second.requests(), 1);
    }

    void testRefusesAWebSocket()
    {
        Service service;
        RequestReplayer replayer;
        QSignalSpy finished(&replayer, &RequestReplayer::finished);
        RequestRecord record = captured({}, 0);
        record.kind = RequestRecord::Kind::WebSocket;
        QVERIFY(!replayer.replay(record, service.url()));
        QTest::qWait(0); // a refused replay says nothing, not even later
        QCOMPARE(finished.size(), 0);
        QCOMPARE(service.requests(), 0);
    }

    void testADeadServiceIsA502()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        RequestReplayer replayer;
        QSignalSpy finished(&replayer, &RequestReplayer::finished);
        QVERIFY(replayer.replay(captured({}, 0), QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port))));
        QTRY_COMPARE_WITH_TIMEOUT(finished.size(), 1, 10000);
        const auto result = finished.first().at(1).value<RequestRecord>();
        QCOMPARE(result.status, 502);
        QVERIFY(!result.error.isEmpty());
    }
};

QTEST_GUILESS_MAIN(TestRequestReplayer)
#include "TestRequestReplayer.moc"
