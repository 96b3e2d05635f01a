// keyhole-cli in front of a dev server that refuses the forwarded Host: the fix is printed once.
#include "CannedHttpService.h"
#include "FakeProxy.h"
#include "ManagedProcess.h"
#include "TestEnvironment.h"

#include <QTemporaryDir>
#include <QTest>

using namespace keyhole;
using keyhole::testing::CannedHttpService;
using keyhole::testing::ManagedProcess;

class TestCliHostRefusal : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void hintIsPrintedOnce()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QByteArray body = "Blocked request. This host (\"label.tunnel.test\") is not allowed.";
        CannedHttpService vite("HTTP/1.1 403 Forbidden\r\nContent-Type: text/plain\r\nContent-Length: "
                               + QByteArray::number(body.size()) + "\r\n\r\n" + body);
        QVERIFY(vite.isListening());
        FakeProxy proxy([](int) {
            protocol::RegistrationResponse response;
            response.accepted = true;
            response.label = QStringLiteral("label");
            response.hostname = QStringLiteral("label.tunnel.test");
            response.publicUrl = QStringLiteral("http://label.tunnel.test");
            response.requestTimeoutMs = 30000;
            return response;
        });
        ManagedProcess cli(QStringLiteral("keyhole-cli"));
        QVERIFY(cli.start(testing::cliProgram(),
                          {QStringLiteral("--proxy"), proxy.url().toString(), QStringLiteral("--port"),
                           QString::number(vite.port()), QStringLiteral("--key"),
                           dir.filePath(QStringLiteral("key.pem"))}));
        QVERIFY2(cli.waitForLine(QRegularExpression(QStringLiteral("^Tunnel online")), 30000).hasMatch(),
                 qPrintable(cli.errorString()));

        for (int i = 0; i < 3; ++i) {
            protocol::HttpRequest request;
            request.id = "r" + QByteArray::number(i);
            request.method = "GET";
            request.path = "/";
            request.headers = {{"Host", "label.tunnel.test"}};
            proxy.send(request);
        }
        QTRY_COMPARE_WITH_TIMEOUT(proxy.all<protocol::HttpResponse>().size(), 3, 15000);
        QTRY_COMPARE_WITH_TIMEOUT(cli.stdoutLines().size(), 4, 15000); // "Tunnel online" and one per request
        QTRY_VERIFY_WITH_TIMEOUT(cli.stderrData().contains("--host-header rewrite"), 15000);
        const QByteArray err = cli.stderrData();
        QCOMPARE(err.count("--host-header rewrite"), 1);
        QVERIFY2(err.contains("Blocked request"), err.constData());
        cli.terminate();
        QVERIFY(cli.waitForExit(15000));
    }
};

QTEST_MAIN(TestCliHostRefusal)
#include "TestCliHostRefusal.moc"
