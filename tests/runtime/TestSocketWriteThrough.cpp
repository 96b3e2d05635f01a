// SocketWriteThrough: bytes go straight to the kernel only while Qt holds none for the socket, in
// order, gathered from several parts; what the kernel does not take follows through Qt; a TLS
// socket never goes direct.

#include "net/SocketWriteThrough.h"

#include <QSslSocket>
#include <QTcpServer>
#include <QTcpSocket>
#include <QtTest>

#include <memory>

using keyhole::net::SocketWriteThrough;

class TestSocketWriteThrough : public QObject
{
    Q_OBJECT

private slots:
    void init();
    void cleanup();
    void smallPartsGoDirectInOneCall();
    void nothingDirectWhileQtHoldsBytes();
    void restFollowsThroughQtInOrder();
    void notForTlsOrUnconnectedSockets();

private:
    QByteArray readAtLeast(qsizetype count, int timeoutMs = 20000);

    QTcpServer m_server;
    std::unique_ptr<QTcpSocket> m_writer;
    QTcpSocket *m_reader = nullptr;
};

void TestSocketWriteThrough::init()
{
    if (!SocketWriteThrough::available())
        QSKIP("no direct writes on this platform: every byte goes through Qt");
    QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
    m_writer = std::make_unique<QTcpSocket>();
    m_writer->connectToHost(QHostAddress::LocalHost, m_server.serverPort());
    QVERIFY(m_writer->waitForConnected(5000));
    QVERIFY(m_server.waitForNewConnection(5000));
    m_reader = m_server.nextPendingConnection();
    QVERIFY(m_reader);
}

void TestSocketWriteThrough::cleanup()
{
    m_writer.reset();
    delete m_reader;
    m_reader = nullptr;
    m_server.close();
}

QByteArray TestSocketWriteThrough::readAtLeast(qsizetype count, int timeoutMs)
{
    QByteArray received;
    QElapsedTimer clock;
    clock.start();
    while (received.size() < count && clock.elapsed() < timeoutMs) {
        if (m_reader->bytesAvailable() == 0)
            m_reader->waitForReadyRead(100);
        received += m_reader->readAll();
        QCoreApplication::processEvents(); // the writer's Qt buffer drains through the loop
    }
    return received;
}

void TestSocketWriteThrough::smallPartsGoDirectInOneCall()
{
    QVERIFY(SocketWriteThrough::canWrite(m_writer.get()));
    const QByteArray a = "head:", b = "body", c = ":tail";
    const QByteArrayView parts[] = {a, QByteArrayView(), b, c};
    QSignalSpy written(m_writer.get(), &QTcpSocket::bytesWritten);
    QCOMPARE(SocketWriteThrough::write(m_writer.get(), parts, 4), qint64(14));
    QCOMPARE(m_writer->bytesToWrite(), qint64(0)); // nothing left in Qt's buffer
    QCOMPARE(readAtLeast(14), QByteArray("head:body:tail"));
    QCOMPARE(written.count(), 0); // Qt never saw these bytes
}

void TestSocketWriteThrough::nothingDirectWhileQtHoldsBytes()
{
    m_writer->write("queued first;"); // in Qt's buffer until the loop runs
    QVERIFY(!SocketWriteThrough::canWrite(m_writer.get()));
    const QByteArray later = "then this";
    QCOMPARE(SocketWriteThrough::writeAll(m_writer.get(), later), qint64(0));
    QCOMPARE(readAtLeast(22), QByteArray("queued first;then this"));
}

void TestSocketWriteThrough::restFollowsThroughQtInOrder()
{
    // More than the kernel's socket buffers hold while nobody reads: part goes direct, the rest
    // through Qt, and the reader gets every byte in order.
    QByteArray head = "HEAD";
    QByteArray body(24 * 1024 * 1024, Qt::Uninitialized);
    for (qsizetype i = 0; i < body.size(); ++i)
        body[i] = char((i * 131) >> 7);
    const QByteArrayView parts[] = {head, body};
    const QByteArray *owners[] = {nullptr, &body};
    const qint64 direct = SocketWriteThrough::writeAll(m_writer.get(), parts, owners, 2);
    QVERIFY2(direct > 0 && direct < head.size() + body.size(), qPrintable(QString::number(direct)));
    QCOMPARE(m_writer->bytesToWrite(), head.size() + body.size() - direct);
    const QByteArray received = readAtLeast(head.size() + body.size());
    QCOMPARE(received.size(), head.size() + body.size());
    QVERIFY(received == head + body);
}

void TestSocketWriteThrough::notForTlsOrUnconnectedSockets()
{
    QTcpSocket unconnected;
    QVERIFY(!SocketWriteThrough::canWrite(&unconnected));
    const QByteArray bytes = "x";
    const QByteArrayView part(bytes);
    QCOMPARE(SocketWriteThrough::write(&unconnected, &part, 1), qint64(0));
    QVERIFY(!SocketWriteThrough::canWrite(nullptr));

    // A TLS socket over a connected descriptor: bytes must be encrypted, so never direct.
    QSslSocket tls;
    QTcpServer server;
    QVERIFY(server.listen(QHostAddress::LocalHost, 0));
    tls.connectToHost(QHostAddress::LocalHost, server.serverPort()); // plain connect, no handshake
    QVERIFY(tls.waitForConnected(5000));
    QCOMPARE(tls.state(), QAbstractSocket::ConnectedState);
    QVERIFY(!SocketWriteThrough::canWrite(&tls));
}

QTEST_GUILESS_MAIN(TestSocketWriteThrough)
#include "TestSocketWriteThrough.moc"
