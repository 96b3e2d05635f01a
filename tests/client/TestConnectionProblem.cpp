#include "ConnectionProblem.h"
#include "TunnelClient.h"
#include "crypto/KeyPair.h"

#include <QSignalSpy>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace keyhole;
using client::ConnectionProblem;
using Failure = websocket::WebSocketConnector::Failure;
using Kind = ConnectionProblem::Kind;

class TestConnectionProblem : public QObject
{
    Q_OBJECT

private:
    static ConnectionProblem reach(const QUrl &proxy)
    {
        client::ClientSettings settings;
        settings.proxyUrl = proxy;
        settings.target = QUrl(QStringLiteral("http://127.0.0.1:1"));
        settings.keyPath = QStringLiteral("unused.pem");
        auto key = crypto::KeyPair::generate();
        if (!key)
            return {};
        client::TunnelClient tunnel(settings, std::move(*key));
        tunnel.setBackoff(client::Backoff(
            60000, 60000, [] { return 1.0; }, 60000));
        QSignalSpy errors(&tunnel, &client::TunnelClient::errorOccurred);
        tunnel.start();
        if (!errors.wait(20000))
            return {};
        return tunnel.connectionProblem();
    }

private Q_SLOTS:
    void classifies_data()
    {
        QTest::addColumn<int>("failure");
        QTest::addColumn<int>("status");
        QTest::addColumn<QString>("proxy");
        QTest::addColumn<int>("kind");

        const QString https = QStringLiteral("https://tunnel.example.com");
        const QString http = QStringLiteral("http://tunnel.example.com:8080");
        QTest::newRow("unknown host") << int(Failure::HostNotFound) << 0 << https << int(Kind::UnknownHost);
        QTest::newRow("certificate") << int(Failure::Certificate) << 0 << https << int(Kind::CertificateRefused);
        QTest::newRow("https to a plain port") << int(Failure::Tls) << 0 << https << int(Kind::WrongScheme);
        QTest::newRow("http to port 443, closed")
            << int(Failure::Closed) << 0 << QStringLiteral("http://tunnel.example.com:443") << int(Kind::WrongScheme);
        QTest::newRow("http to port 443, 400")
            << int(Failure::UpgradeRefused) << 400 << QStringLiteral("http://tunnel.example.com:443")
            << int(Kind::WrongScheme);
        QTest::newRow("404: not a proxy") << int(Failure::UpgradeRefused) << 404 << https << int(Kind::NotAProxy);
        QTest::newRow("200: not a proxy") << int(Failure::UpgradeRefused) << 200 << http << int(Kind::NotAProxy);
        QTest::newRow("garbage answer") << int(Failure::BadHandshake) << 0 << http << int(Kind::NotAProxy);
        QTest::newRow("bad url") << int(Failure::BadUrl) << 0 << QStringLiteral("ftp://x") << int(Kind::BadUrl);
        QTest::newRow("503 from a front proxy") << int(Failure::UpgradeRefused) << 503 << https << int(Kind::Transient);
        QTest::newRow("502") << int(Failure::UpgradeRefused) << 502 << https << int(Kind::Transient);
        QTest::newRow("429") << int(Failure::UpgradeRefused) << 429 << https << int(Kind::Transient);
        QTest::newRow("refused") << int(Failure::Refused) << 0 << https << int(Kind::Transient);
        QTest::newRow("timed out") << int(Failure::TimedOut) << 0 << https << int(Kind::Transient);
        QTest::newRow("network") << int(Failure::Network) << 0 << https << int(Kind::Transient);
        QTest::newRow("closed") << int(Failure::Closed) << 0 << http << int(Kind::Transient);
    }

    void classifies()
    {
        QFETCH(int, failure);
        QFETCH(int, status);
        QFETCH(QString, proxy);
        QFETCH(int, kind);
        const ConnectionProblem p = ConnectionProblem::classify(Failure(failure), status, QStringLiteral("detail"),
                                                                QUrl(proxy));
        QCOMPARE(ConnectionProblem::kindName(p.kind), ConnectionProblem::kindName(Kind(kind)));
        QCOMPARE(p.isLasting(), Kind(kind) != Kind::Transient);
        QVERIFY(!p.sentence.isEmpty());
        if (p.isLasting()) {
            QVERIFY2(!p.advice.isEmpty(), "a lasting problem says what to do");
            QVERIFY2(!p.sentence.contains(QLatin1String("retrying")), qPrintable(p.sentence));
        }
        QCOMPARE(p.detail, QStringLiteral("detail"));
    }

    // The same with real sockets, through the tunnel client.
    void unknownHost()
    {
        const ConnectionProblem p = reach(QUrl(QStringLiteral("http://no-such-proxy.invalid:8080")));
        QCOMPARE(ConnectionProblem::kindName(p.kind), ConnectionProblem::kindName(Kind::UnknownHost));
        QVERIFY2(p.sentence.contains(QLatin1String("no-such-proxy.invalid")), qPrintable(p.sentence));
    }

    void httpsToAPlainPort()
    {
        // A plain HTTP server that answers anything with a 400 page, as a web server would.
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        connect(&server, &QTcpServer::newConnection, this, [&server] {
            QTcpSocket *socket = server.nextPendingConnection();
            connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                socket->readAll();
                socket->write("HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n");
                socket->disconnectFromHost();
            });
        });
        const ConnectionProblem p = reach(QUrl(QStringLiteral("https://127.0.0.1:%1").arg(server.serverPort())));
        QCOMPARE(ConnectionProblem::kindName(p.kind), ConnectionProblem::kindName(Kind::WrongScheme));
    }

    void notAProxy()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        connect(&server, &QTcpServer::newConnection, this, [&server] {
            QTcpSocket *socket = server.nextPendingConnection();
            connect(socket, &QTcpSocket::readyRead, socket, [socket] {
                socket->readAll();
                socket->write("HTTP/1.1 404 Not Found\r\nContent-Length: 0\r\n\r\n");
            });
        });
        const ConnectionProblem p = reach(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(server.serverPort())));
        QCOMPARE(ConnectionProblem::kindName(p.kind), ConnectionProblem::kindName(Kind::NotAProxy));
        QVERIFY2(p.sentence.contains(QLatin1String("404")), qPrintable(p.sentence));
    }

    void refusedPortIsTransient()
    {
        QTcpServer server;
        QVERIFY(server.listen(QHostAddress::LocalHost, 0));
        const quint16 port = server.serverPort();
        server.close();
        const ConnectionProblem p = reach(QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port)));
        QCOMPARE(ConnectionProblem::kindName(p.kind), ConnectionProblem::kindName(Kind::Transient));
        QVERIFY(!p.isLasting());
    }
};

QTEST_MAIN(TestConnectionProblem)
#include "TestConnectionProblem.moc"
