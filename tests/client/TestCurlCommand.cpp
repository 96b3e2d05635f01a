#include "CannedHttpService.h"
#include "CurlCommand.h"

#include <QProcess>
#include <QSignalSpy>
#include <QTest>

using namespace keyhole;
using client::CurlCommand;
using client::RequestRecord;
using testing::CannedHttpService;

namespace {

QByteArray everyByte()
{
    QByteArray bytes;
    for (int i = 0; i < 256; ++i)
        bytes.append(char(i));
    return bytes + QByteArray("'\n$(touch /tmp/pwned)`id`\r\n\x1b[2J", 30);
}

} // namespace

class TestCurlCommand : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    // The command, run by bash, makes the local service get the captured bytes: body, method,
    // target and every header value, however they are quoted.
    void roundTripsThroughBash_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("headerValue");
        QTest::newRow("binary body") << everyByte() << QByteArray("plain");
        QTest::newRow("multi-line text body") << QByteArray("line one\nline 'two'\n") << QByteArray("x");
        QTest::newRow("shell metacharacters in a header")
            << QByteArray("{\"a\":1}") << QByteArray("it's \"quoted\" $HOME `id` $(id) ; & | \\ * ~ !! %s");
        QTest::newRow("utf-8 header") << QByteArray("caf\xc3\xa9") << QByteArray("J\xc3\xbcrgen");
    }

    void roundTripsThroughBash()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, headerValue);
        CannedHttpService service("HTTP/1.1 204 No Content\r\nContent-Length: 0\r\n\r\n");
        QVERIFY(service.isListening());

        RequestRecord r;
        r.method = "PUT";
        r.path = "/files/a b";
        r.query = "v=1&x='";
        r.requestHeaders = {{"Content-Type", "application/octet-stream"}, {"X-Tricky", headerValue}};
        r.requestBodyPreview = body;
        r.bytesIn = body.size();
        const QString command = CurlCommand::build(r, service.url());

        // The service answers from this event loop: wait for bash without blocking it.
        QProcess bash;
        QSignalSpy finished(&bash, &QProcess::finished);
        bash.start(QStringLiteral("bash"), {QStringLiteral("-c"), command + QStringLiteral(" --silent --show-error")});
        bash.closeWriteChannel();
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 30000);
        QVERIFY2(bash.exitCode() == 0, bash.readAllStandardError().constData());
        QTRY_COMPARE_WITH_TIMEOUT(service.requests(), 1, 10000);

        const QByteArray received = service.received();
        QVERIFY2(received.startsWith("PUT /files/a%20b?v=1&x=' HTTP/1.1\r\n"), received.left(200).constData());
        QVERIFY2(received.contains("\r\nX-Tricky: " + headerValue + "\r\n"), received.left(400).constData());
        QVERIFY(received.contains("\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n"));
        const qsizetype headEnd = received.indexOf("\r\n\r\n");
        QVERIFY(headEnd > 0);
        QCOMPARE(received.mid(headEnd + 4), body);
    }
};

QTEST_GUILESS_MAIN(TestCurlCommand)
#include "TestCurlCommand.moc"
