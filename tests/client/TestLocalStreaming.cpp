// LocalForwarder streaming (protocol 2): response bodies go out as the local service writes them,
// within the proxy's credit; streamed request bodies reach the service byte-exact with credit
// coming back; cancels, limits, timeouts and the log record's body preview.
#include "LocalForwarder.h"
#include "http/HeaderRules.h"

#include <QPointer>
#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using keyhole::client::LocalForwarder;
using keyhole::client::RequestRecord;
using namespace keyhole::protocol;

namespace {

// A local service the test drives by hand: it accepts one connection at a time, records what
// arrives and writes only what the test tells it to. `readPaused` stops it reading its socket.
class ScriptedService : public QObject
{
public:
    ScriptedService()
    {
        QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
        connect(&m_server, &QTcpServer::newConnection, this, [this] {
            while (QTcpSocket *next = m_server.nextPendingConnection()) {
                socket = next;
                ++connections;
                if (readPaused)
                    next->setReadBufferSize(64 * 1024); // what is not read stays in the kernel
                connect(next, &QTcpSocket::readyRead, this, [this, next] {
                    if (!readPaused)
                        received += next->readAll();
                });
                connect(next, &QTcpSocket::disconnected, this, [this] { ++disconnects; });
            }
        });
    }

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }
    bool headReceived() const { return received.contains("\r\n\r\n"); }
    void resumeReading()
    {
        readPaused = false;
        if (!socket)
            return;
        socket->setReadBufferSize(0);
        received += socket->readAll();
    }

    QPointer<QTcpSocket> socket;
    QByteArray received;
    bool readPaused = false;
    int connections = 0;
    int disconnects = 0;

private:
    QTcpServer m_server;
};

// What the forwarder says to the proxy, in order.
struct ProxySide {
    explicit ProxySide(LocalForwarder &forwarder)
    {
        QObject::connect(&forwarder, &LocalForwarder::messageForProxy, &forwarder,
                         [this](const Message &message) { messages.append(message); });
        QObject::connect(&forwarder, &LocalForwarder::requestFinished, &forwarder,
                         [this](const RequestRecord &record) { records.append(record); });
    }

    template <typename T> QList<T> all() const
    {
        QList<T> out;
        for (const Message &message : messages) {
            if (const auto *m = std::get_if<T>(&message))
                out.append(*m);
        }
        return out;
    }
    QByteArray bodyData() const
    {
        QByteArray data;
        for (const HttpBody &body : all<HttpBody>())
            data += body.data;
        return data;
    }
    bool ended() const
    {
        const QList<HttpBody> bodies = all<HttpBody>();
        return !bodies.isEmpty() && bodies.last().end;
    }
    qint64 credited() const
    {
        qint64 total = 0;
        for (const HttpCredit &credit : all<HttpCredit>())
            total += credit.bytes;
        return total;
    }

    QList<Message> messages;
    QList<RequestRecord> records;
};

LocalForwarder::Options optionsFor(const QUrl &target)
{
    LocalForwarder::Options options;
    options.target = target;
    options.timeoutMs = 5000;
    options.maxResponseBodyBytes = 0;
    return options;
}

HttpRequest makeRequest(const QByteArray &method = "GET", const QByteArray &id = "s1")
{
    HttpRequest request;
    request.id = id;
    request.method = method;
    request.path = "/stream";
    request.headers = {{"Host", "abc.tunnel.test"}};
    return request;
}

QByteArray pattern(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char('a' + (i * 7 + i / 251) % 26);
    return bytes;
}

// Decodes a complete chunked body; empty on a framing error.
QByteArray unchunk(QByteArray wire, bool *complete)
{
    QByteArray out;
    *complete = false;
    for (;;) {
        const qsizetype lineEnd = wire.indexOf("\r\n");
        if (lineEnd < 0)
            return out;
        bool ok = false;
        const qsizetype size = wire.left(lineEnd).toLongLong(&ok, 16);
        if (!ok)
            return {};
        if (size == 0) {
            *complete = wire.mid(lineEnd) == "\r\n\r\n";
            return out;
        }
        if (wire.size() < lineEnd + 2 + size + 2)
            return out;
        out += wire.mid(lineEnd + 2, size);
        wire.remove(0, lineEnd + 2 + size + 2);
    }
}

} // namespace

class TestLocalStreaming : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void smallCompleteResponseRidesInline();
    void responseGoesOutBeforeTheServiceFinishes();
    void chunkedResponseIsDecodedAndStreamed();
    void serverSentEventsGoOutOneByOne();
    void noCreditStopsReadingTheService();
    void streamedRequestReachesTheService_data();
    void streamedRequestReachesTheService();
    void requestCreditFollowsTheServiceReading();
    void cancelClosesTheLocalConnection();
    void serviceDyingMidStreamCancels();
    void serviceDyingBeforeTheHeadIs502();
    void responseLimit_data();
    void responseLimit();
    void requestLimit();
    void idleBodyIsCancelled();
    void bodyPreviewIsCapped();
    void smallBodysPreviewHoldsNoReadBuffer();
};

void TestLocalStreaming::smallCompleteResponseRidesInline()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Length: 5\r\n\r\nhello");
    QTRY_COMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.messages.size(), 1);
    const HttpResponse response = proxy.all<HttpResponse>().value(0);
    QVERIFY(!response.streamed);
    QCOMPARE(response.body, QByteArray("hello"));
    QCOMPARE(keyhole::http::headerValue(response.headers, "Content-Length"), QByteArray("5"));
}

void TestLocalStreaming::responseGoesOutBeforeTheServiceFinishes()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    const QByteArray body = pattern(3000);
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Type: application/octet-stream\r\nContent-Length: 3000\r\n\r\n"
                          + body.left(1000));
    // The head and the first piece go out while the service has not written the rest.
    QTRY_COMPARE(proxy.bodyData(), body.left(1000));
    const HttpResponse head = proxy.all<HttpResponse>().value(0);
    QVERIFY(head.streamed);
    QCOMPARE(keyhole::http::headerValue(head.headers, "Content-Length"), QByteArray("3000"));
    QVERIFY(!proxy.ended());
    service.socket->write(body.mid(1000, 1000));
    QTRY_COMPARE(proxy.bodyData(), body.left(2000));
    QVERIFY(!proxy.ended());
    service.socket->write(body.mid(2000));
    QTRY_VERIFY(proxy.ended());
    QCOMPARE(proxy.bodyData(), body);
    QVERIFY(proxy.all<HttpBody>().size() >= 3);
    QCOMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.records[0].bytesOut, qint64(3000));
}

void TestLocalStreaming::chunkedResponseIsDecodedAndStreamed()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n");
    QTRY_COMPARE(proxy.bodyData(), QByteArray("hello"));
    const HttpResponse head = proxy.all<HttpResponse>().value(0);
    QVERIFY(head.streamed);
    // The chunk framing is the service's and the client's business: the proxy frames it again.
    QVERIFY(!keyhole::http::hasHeader(head.headers, "Transfer-Encoding"));
    QVERIFY(!keyhole::http::hasHeader(head.headers, "Content-Length"));
    service.socket->write("6\r\n world\r\n0\r\n\r\n");
    QTRY_VERIFY(proxy.ended());
    QCOMPARE(proxy.bodyData(), QByteArray("hello world"));
    // The connection stays for the next request.
    QTRY_COMPARE(forwarder.exchangeCount(), 0);
    QCOMPARE(forwarder.connectionCount(), 1);
}

void TestLocalStreaming::serverSentEventsGoOutOneByOne()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nCache-Control: no-cache\r\n\r\n");
    QTRY_COMPARE(proxy.all<HttpResponse>().size(), 1);
    QVERIFY(proxy.all<HttpResponse>()[0].streamed);
    for (int i = 0; i < 3; ++i) {
        const QByteArray event = "data: event " + QByteArray::number(i) + "\n\n";
        service.socket->write(event);
        // Each event on its own, as soon as it is written: no waiting to fill a chunk.
        QTRY_COMPARE(proxy.all<HttpBody>().size(), i + 1);
        QCOMPARE(proxy.all<HttpBody>().last().data, event);
        QVERIFY(!proxy.ended());
    }
    service.socket->disconnectFromHost(); // a close-delimited body ends here
    QTRY_VERIFY(proxy.ended());
    QVERIFY(proxy.all<HttpCancel>().isEmpty());
}

void TestLocalStreaming::noCreditStopsReadingTheService()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    // More than the kernel's socket buffers hold, so what the client does not read stays with the service.
    const qint64 size = 24 * 1024 * 1024;
    const QByteArray body = pattern(size);
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(size) + "\r\n\r\n" + body);
    QTRY_COMPARE(proxy.bodyData().size(), kStreamWindowBytes);
    QTest::qWait(300); // nothing more may come without credit
    QCOMPARE(proxy.bodyData().size(), kStreamWindowBytes);
    for (const HttpBody &chunk : proxy.all<HttpBody>())
        QVERIFY(chunk.data.size() <= kBodyChunkBytes);
    // The service cannot get rid of its bytes: TCP holds it back.
    QTRY_VERIFY(service.socket->bytesToWrite() > 8 * 1024 * 1024);
    const qint64 stuck = service.socket->bytesToWrite();

    forwarder.credit(HttpCredit{"s1", kStreamWindowBytes});
    QTRY_COMPARE(proxy.bodyData().size(), 2 * kStreamWindowBytes);
    QTest::qWait(100);
    QCOMPARE(proxy.bodyData().size(), 2 * kStreamWindowBytes);

    // Credit as a proxy would, as it passes the bytes on: everything arrives, byte-exact.
    qint64 granted = 2 * kStreamWindowBytes;
    QTRY_VERIFY_WITH_TIMEOUT(
        [&] {
            const qint64 sent = proxy.bodyData().size();
            if (sent == granted && granted < size) {
                forwarder.credit(HttpCredit{"s1", kStreamWindowBytes});
                granted += kStreamWindowBytes;
            }
            return proxy.ended();
        }(),
        60000);
    QVERIFY(stuck > 0);
    QCOMPARE(proxy.bodyData(), body);
}

void TestLocalStreaming::streamedRequestReachesTheService_data()
{
    QTest::addColumn<bool>("withLength");
    QTest::newRow("content-length") << true;
    QTest::newRow("chunked") << false;
}

void TestLocalStreaming::streamedRequestReachesTheService()
{
    QFETCH(bool, withLength);
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    const QByteArray body = pattern(200 * 1024 + 17);
    HttpRequest request = makeRequest("POST");
    request.streamed = true;
    request.body = body.left(1000);
    request.headers.append({QByteArrayLiteral("Expect"), QByteArrayLiteral("100-continue")});
    if (withLength)
        request.headers.append({QByteArrayLiteral("Content-Length"), QByteArray::number(body.size())});
    forwarder.forward(request);
    // The request starts before its body is complete.
    QTRY_VERIFY(service.headReceived());
    const QByteArray head = service.received.left(service.received.indexOf("\r\n\r\n") + 4);
    QVERIFY2(!head.contains("Expect"), head.constData());
    if (withLength)
        QVERIFY2(head.contains("\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n"), head.constData());
    else
        QVERIFY2(head.contains("\r\nTransfer-Encoding: chunked\r\n"), head.constData());
    for (qsizetype at = 1000; at < body.size(); at += 50000) {
        const QByteArray piece = body.mid(at, 50000);
        forwarder.deliverBody(HttpBody{"s1", piece, at + piece.size() == body.size()});
    }
    const QByteArray wire = [&] { return service.received.mid(head.size()); }();
    if (withLength) {
        QTRY_COMPARE(service.received.size(), head.size() + body.size());
        QCOMPARE(service.received.mid(head.size()), body);
    } else {
        bool complete = false;
        QTRY_VERIFY((unchunk(service.received.mid(head.size()), &complete), complete));
        QCOMPARE(unchunk(service.received.mid(head.size()), &complete), body);
    }
    Q_UNUSED(wire);
    QTRY_COMPARE(proxy.credited(), qint64(body.size()));
    service.socket->write("HTTP/1.1 201 Created\r\nContent-Length: 2\r\n\r\nok");
    QTRY_COMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.all<HttpResponse>().value(0).status, 201);
    QCOMPARE(proxy.records[0].bytesIn, qint64(body.size()));
    QVERIFY(proxy.records[0].requestBodyTruncated);
}

void TestLocalStreaming::requestCreditFollowsTheServiceReading()
{
    ScriptedService service;
    service.readPaused = true;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    HttpRequest request = makeRequest("PUT");
    request.streamed = true;
    request.headers.append({QByteArrayLiteral("Content-Length"), QByteArray::number(32 * 1024 * 1024)});
    forwarder.forward(request);
    QTRY_VERIFY(service.socket);

    // Upload as a proxy would: never more than the window ahead of the credit.
    const qint64 total = 32 * 1024 * 1024;
    const QByteArray piece = pattern(kBodyChunkBytes);
    qint64 sent = 0;
    const auto pump = [&] {
        while (sent < total && sent + piece.size() - proxy.credited() <= kStreamWindowBytes) {
            sent += piece.size();
            forwarder.deliverBody(HttpBody{"s1", piece, sent == total});
        }
    };
    // While the service does not read, the credit stops once the kernel's buffers are full.
    qint64 last = -1;
    while (proxy.credited() != last) {
        last = proxy.credited();
        pump();
        QTest::qWait(300);
    }
    QVERIFY2(sent < total / 2, QByteArray::number(sent).constData());
    QVERIFY(sent - proxy.credited() <= kStreamWindowBytes);

    // It reads: the credit comes back and the upload completes.
    service.resumeReading();
    QTRY_VERIFY_WITH_TIMEOUT((pump(), proxy.credited() == total), 60000);
    const qsizetype headSize = service.received.indexOf("\r\n\r\n") + 4;
    QTRY_COMPARE(service.received.size() - headSize, total);

    // More than the window without credit is the proxy's mistake: the exchange is abandoned.
    ScriptedService second;
    LocalForwarder other(optionsFor(second.url()));
    ProxySide otherProxy(other);
    HttpRequest upload = makeRequest("PUT", "s2");
    upload.streamed = true;
    other.forward(upload);
    QTRY_VERIFY(second.socket);
    for (int i = 0; i <= kStreamWindowBytes / kBodyChunkBytes; ++i)
        other.deliverBody(HttpBody{"s2", piece, false});
    QTRY_COMPARE(otherProxy.records.size(), 1);
    QTRY_COMPARE(second.disconnects, 1);
}

void TestLocalStreaming::cancelClosesTheLocalConnection()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\ndata: 1\n\n");
    QTRY_COMPARE(proxy.all<HttpBody>().size(), 1);
    const int before = proxy.messages.size();
    forwarder.cancel(HttpCancel{"s1", QStringLiteral("visitor left")});
    QTRY_VERIFY_WITH_TIMEOUT(service.disconnects == 1, 1000);
    QCOMPARE(forwarder.exchangeCount(), 0);
    QCOMPARE(proxy.records.size(), 1);
    QVERIFY(proxy.records[0].error.contains(QStringLiteral("visitor left")));
    service.socket->write("data: 2\n\n");
    QTest::qWait(100);
    QCOMPARE(proxy.messages.size(), before); // nothing more for a cancelled exchange, no answer to the cancel
    QTRY_COMPARE(forwarder.connectionCount(), 0);
}

void TestLocalStreaming::serviceDyingMidStreamCancels()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Length: 100000\r\n\r\n" + pattern(70000));
    QTRY_VERIFY(proxy.bodyData().size() > 0);
    service.socket->abort();
    QTRY_COMPARE(proxy.all<HttpCancel>().size(), 1);
    QCOMPARE(proxy.all<HttpCancel>()[0].id, QByteArray("s1"));
    QVERIFY(!proxy.ended());
    QCOMPARE(proxy.all<HttpResponse>().size(), 1);
    QTRY_COMPARE(proxy.records.size(), 1);
    QVERIFY(!proxy.records[0].error.isEmpty());
}

void TestLocalStreaming::serviceDyingBeforeTheHeadIs502()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest("POST"));
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nContent-");
    service.socket->abort();
    QTRY_COMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.all<HttpResponse>().size(), 1);
    QCOMPARE(proxy.all<HttpResponse>()[0].status, 502);
    QVERIFY(proxy.all<HttpCancel>().isEmpty());
}

void TestLocalStreaming::responseLimit_data()
{
    QTest::addColumn<QByteArray>("response");
    QTest::addColumn<bool>("headFirst");
    QTest::newRow("content-length") << QByteArray("HTTP/1.1 200 OK\r\nContent-Length: 100001\r\n\r\n") << false;
    QTest::newRow("chunked") << QByteArray("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
                                           "10000\r\n"
                                           + pattern(0x10000) + "\r\n10000\r\n" + pattern(0x10000) + "\r\n")
                             << true;
    QTest::newRow("until close") << QByteArray("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n") + pattern(100001)
                                 << true;
}

void TestLocalStreaming::responseLimit()
{
    QFETCH(QByteArray, response);
    QFETCH(bool, headFirst);
    ScriptedService service;
    LocalForwarder::Options options = optionsFor(service.url());
    options.maxResponseBodyBytes = 100000;
    LocalForwarder forwarder(options);
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    if (headFirst) {
        // The head and a first part, then the rest once the head is out: a response that is not
        // complete when its head is read goes out streamed, whatever the inline size.
        const qsizetype split = response.indexOf("\r\n\r\n") + 4 + 50000;
        service.socket->write(response.left(split));
        QTRY_COMPARE(proxy.all<HttpResponse>().size(), 1);
        service.socket->write(response.mid(split));
    } else {
        service.socket->write(response);
    }
    QTRY_COMPARE(proxy.records.size(), 1);
    if (headFirst) {
        // The head went out before the body crossed the limit: the proxy is told to cut it.
        QCOMPARE(proxy.all<HttpResponse>().size(), 1);
        QVERIFY(proxy.all<HttpResponse>()[0].streamed);
        QCOMPARE(proxy.all<HttpCancel>().size(), 1);
        QVERIFY(proxy.all<HttpCancel>()[0].reason.contains(QStringLiteral("limit of 100000 bytes")));
        QVERIFY(proxy.bodyData().size() <= 100000);
        QVERIFY(!proxy.ended());
    } else {
        QCOMPARE(proxy.messages.size(), 1);
        QCOMPARE(proxy.all<HttpResponse>()[0].status, 502);
        QVERIFY(proxy.all<HttpResponse>()[0].body.contains("limit of 100000 bytes"));
    }
    QTRY_COMPARE(service.disconnects, 1);
}

void TestLocalStreaming::requestLimit()
{
    // The proxy's request body limit, counted as a chunked upload flows: 413 while no head was sent.
    ScriptedService service;
    LocalForwarder::Options options = optionsFor(service.url());
    options.maxRequestBodyBytes = 1000;
    LocalForwarder forwarder(options);
    ProxySide proxy(forwarder);
    HttpRequest request = makeRequest("POST");
    request.streamed = true;
    request.body = pattern(600);
    forwarder.forward(request);
    QTRY_VERIFY(service.headReceived());
    forwarder.deliverBody(HttpBody{"s1", pattern(600), false});
    QTRY_COMPARE(proxy.records.size(), 1);
    QCOMPARE(proxy.all<HttpResponse>().size(), 1);
    QCOMPARE(proxy.all<HttpResponse>()[0].status, 413);
    QTRY_COMPARE(service.disconnects, 1);
}

void TestLocalStreaming::idleBodyIsCancelled()
{
    ScriptedService service;
    LocalForwarder::Options options = optionsFor(service.url());
    options.timeoutMs = 300;         // the head comes in time...
    options.bodyIdleTimeoutMs = 600; // ...and a body that keeps moving is not cut by the head timeout
    LocalForwarder forwarder(options);
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n\r\n");
    for (int i = 0; i < 4; ++i) {
        QTest::qWait(200);
        service.socket->write("data: tick\n\n");
    }
    QTRY_COMPARE(proxy.all<HttpBody>().size(), 4);
    QVERIFY(proxy.all<HttpCancel>().isEmpty());
    // Then it stops moving.
    QTRY_COMPARE_WITH_TIMEOUT(proxy.all<HttpCancel>().size(), 1, 5000);
    QTRY_COMPARE(service.disconnects, 1);
}

void TestLocalStreaming::bodyPreviewIsCapped()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    const QByteArray body = pattern(200 * 1024);
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Length: " + QByteArray::number(body.size()) + "\r\n\r\n" + body);
    QTRY_COMPARE(proxy.bodyData().size(), kStreamWindowBytes < body.size() ? kStreamWindowBytes : body.size());
    QTRY_COMPARE(proxy.records.size(), 1);
    const RequestRecord &record = proxy.records[0];
    QCOMPARE(record.bytesOut, qint64(body.size()));
    QCOMPARE(record.responseBodyPreview.size(), RequestRecord::kPreviewBytes);
    QCOMPARE(record.responseBodyPreview, body.left(RequestRecord::kPreviewBytes));
    QVERIFY(record.responseBodyTruncated);
    QVERIFY(!record.requestBodyTruncated);
}

// The request log keeps a thousand records: each must hold about its preview, not the window-sized
// buffer the answer was read into.
void TestLocalStreaming::smallBodysPreviewHoldsNoReadBuffer()
{
    ScriptedService service;
    LocalForwarder forwarder(optionsFor(service.url()));
    ProxySide proxy(forwarder);
    forwarder.forward(makeRequest());
    QTRY_VERIFY(service.headReceived());
    const QByteArray body = pattern(1024);
    service.socket->write("HTTP/1.1 200 OK\r\nContent-Length: 1024\r\n\r\n" + body);
    QTRY_COMPARE(proxy.records.size(), 1);
    const RequestRecord &record = proxy.records[0];
    QCOMPARE(record.responseBodyPreview, body);
    QVERIFY2(
        record.responseBodyPreview.capacity() <= 2 * RequestRecord::kPreviewBytes,
        qPrintable(QStringLiteral("the preview keeps %1 bytes allocated").arg(record.responseBodyPreview.capacity())));
    QVERIFY2(
        record.responseBodyPreview.capacity() < 16 * 1024,
        qPrintable(QStringLiteral("the preview keeps %1 bytes allocated").arg(record.responseBodyPreview.capacity())));
}

QTEST_GUILESS_MAIN(TestLocalStreaming)
#include "TestLocalStreaming.moc"
