#include "visitors/HostRouter.h"

#include <QTest>

using keyhole::proxy::HostRouter;

namespace {
const QString kLabel = QStringLiteral("y5aahmzqnf6g6azm7vfpiuxveq3jaik26k4m3xarzlukvjmmullq");
}

class TestHostRouter : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testRoute_data()
    {
        QTest::addColumn<QByteArray>("host");
        QTest::addColumn<QByteArray>("path");
        QTest::addColumn<int>("kind");
        QTest::addColumn<QString>("label");
        QTest::addColumn<QByteArray>("tunnelPath");
        QTest::addColumn<bool>("pathRouting"); // the flag, on unless a row says otherwise

        const QByteArray l = kLabel.toLatin1();
        const int self = int(HostRouter::Kind::ProxySelf);
        const int tunnel = int(HostRouter::Kind::Tunnel);
        const int unknown = int(HostRouter::Kind::UnknownHost);
        QTest::newRow("domain itself") << QByteArray("tunnel.example.com") << QByteArray("/healthz") << self
                                       << QString() << QByteArray("/healthz") << true;
        QTest::newRow("ip address") << QByteArray("203.0.113.5:8080") << QByteArray("/") << self << QString()
                                    << QByteArray("/") << true;
        QTest::newRow("foreign host") << QByteArray("evil.example.org") << QByteArray("/") << self << QString()
                                      << QByteArray("/") << true;
        QTest::newRow("label host") << l + ".tunnel.example.com" << QByteArray("/a?b") << tunnel << kLabel
                                    << QByteArray("/a?b") << true;
        QTest::newRow("label host with port, upper case") << l.toUpper() + ".Tunnel.Example.com:8443" << QByteArray("/")
                                                          << tunnel << kLabel << QByteArray("/") << true;
        QTest::newRow("trailing dot") << l + ".tunnel.example.com." << QByteArray("/") << tunnel << kLabel
                                      << QByteArray("/") << true;
        QTest::newRow("not a label") << QByteArray("www.tunnel.example.com") << QByteArray("/") << unknown
                                     << QStringLiteral("www") << QByteArray("/") << true;
        QTest::newRow("two levels") << "a." + l + ".tunnel.example.com" << QByteArray("/") << unknown << "a." + kLabel
                                    << QByteArray("/") << true;
        QTest::newRow("path routing") << QByteArray("tunnel.example.com") << "/proxy/request/" + l + "/x/y?z=1"
                                      << tunnel << kLabel << QByteArray("/x/y?z=1") << true;
        QTest::newRow("path routing, no rest")
            << QByteArray("tunnel.example.com") << "/proxy/request/" + l << tunnel << kLabel << QByteArray("/") << true;
        QTest::newRow("path routing, bad label")
            << QByteArray("tunnel.example.com") << QByteArray("/proxy/request/nope/x") << unknown
            << QStringLiteral("nope") << QByteArray("/x") << true;
        QTest::newRow("lookalike suffix")
            << l + "tunnel.example.com" << QByteArray("/") << self << QString() << QByteArray("/") << true;
        QTest::newRow("path routing off") << QByteArray("tunnel.example.com") << "/proxy/request/" + l + "/x" << self
                                          << QString() << QByteArray() << false;
        QTest::newRow("path routing off, label host")
            << l + ".tunnel.example.com" << QByteArray("/x") << tunnel << kLabel << QByteArray("/x") << false;
    }

    void testRoute()
    {
        QFETCH(QByteArray, host);
        QFETCH(QByteArray, path);
        QFETCH(int, kind);
        QFETCH(QString, label);
        QFETCH(QByteArray, tunnelPath);
        QFETCH(bool, pathRouting);
        const HostRouter router(QStringLiteral("Tunnel.Example.com"), pathRouting);
        const HostRouter::Route route = router.route(host, path);
        QCOMPARE(int(route.kind), kind);
        QCOMPARE(route.pathRouted, kind != int(HostRouter::Kind::ProxySelf) && path.startsWith("/proxy/request/"));
        if (kind != int(HostRouter::Kind::ProxySelf)) {
            QCOMPARE(route.label, label);
            QCOMPARE(route.path, tunnelPath);
        }
    }
};

QTEST_GUILESS_MAIN(TestHostRouter)
#include "TestHostRouter.moc"
