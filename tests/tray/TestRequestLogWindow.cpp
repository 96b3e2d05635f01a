#include "CannedHttpService.h"
#include "RequestLogModel.h"
#include "RequestLogWindow.h"
#include "TrayController.h"

#include <QClipboard>
#include <QGuiApplication>
#include <QLineEdit>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTcpServer>
#include <QTcpSocket>
#include <QTest>

using namespace keyhole;
using client::RequestRecord;
using keyhole::testing::CannedHttpService;

namespace {

RequestRecord capturedPost()
{
    RequestRecord r;
    r.id = "req-42";
    r.method = "POST";
    r.path = "/hooks/github";
    r.query = "delivery=7";
    r.startedAt = QDateTime::currentDateTimeUtc();
    r.status = 200;
    r.durationMs = 5;
    r.requestHeaders = {{"Host", "abc.localhost:8080"},
                        {"Content-Type", "application/json"},
                        {"X-Hub-Event", "push"},
                        {"Content-Length", "13"}};
    r.requestBodyPreview = "{\"ref\":\"main\"}";
    r.bytesIn = r.requestBodyPreview.size();
    r.responseHeaders = {{"Content-Type", "text/plain"}};
    r.responseBodyPreview = "ok";
    r.bytesOut = 2;
    return r;
}

} // namespace

class TestRequestLogWindow : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<tray::TrayController> controllerFor(quint16 port)
    {
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        if (!key)
            return {};
        tray::AppSettings settings;
        settings.targetPort = port;
        return std::make_unique<tray::TrayController>(settings, std::move(*key), QStringLiteral("/tmp/unused.pem"));
    }

private Q_SLOTS:
    void detailsShowHeadersAndBodies()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        QVERIFY(!window.selectedRecord());
        window.selectRow(0);
        QVERIFY(window.selectedRecord());
        const QString details = window.detailsText();
        QVERIFY2(details.contains(QStringLiteral("POST /hooks/github?delivery=7")), qPrintable(details));
        QVERIFY(details.contains(QStringLiteral("X-Hub-Event: push")));
        QVERIFY(details.contains(QStringLiteral("{\"ref\":\"main\"}")));
        QVERIFY(details.contains(QStringLiteral("Content-Type: text/plain")));

        const QString curl = window.curlForSelection();
        QVERIFY(curl.startsWith(QStringLiteral("curl -X 'POST' 'http://127.0.0.1:3000/hooks/github?delivery=7'")));
    }

    void filterBoxFilters()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        RequestRecord other = capturedPost();
        other.path = "/health";
        other.method = "GET";
        model.add(other);
        tray::RequestLogWindow window(&model, controller.get());
        QCOMPARE(window.filterModel()->rowCount(), 2);
        QTest::keyClicks(window.findChild<QLineEdit *>(QStringLiteral("filter")), QStringLiteral("hooks"));
        QCOMPARE(window.filterModel()->rowCount(), 1);
        window.selectRow(0);
        QCOMPARE(window.selectedRecord()->path, QByteArray("/hooks/github"));
    }

    void replaySendsTheRequestAgain()
    {
        CannedHttpService service("HTTP/1.1 418 I'm a teapot\r\nContent-Type: text/plain\r\nX-Replayed: yes\r\n"
                                  "Content-Length: 11\r\n\r\nshort spout");
        QVERIFY(service.isListening());
        auto controller = controllerFor(service.port());
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        QVERIFY(!window.replaySelected()); // nothing selected

        window.selectRow(0);
        QSignalSpy finished(&window, &tray::RequestLogWindow::replayFinished);
        QVERIFY(window.replaySelected());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);

        QCOMPARE(service.requests(), 1);
        QVERIFY2(service.received().startsWith("POST /hooks/github?delivery=7 HTTP/1.1\r\n"),
                 service.received().constData());
        QVERIFY(service.received().contains("X-Hub-Event: push\r\n"));
        QVERIFY(service.received().contains("Host: abc.localhost:8080\r\n"));
        QVERIFY(service.received().endsWith("\r\n\r\n{\"ref\":\"main\"}"));

        const auto replayed = finished.first().first().value<RequestRecord>();
        QCOMPARE(replayed.status, 418);
        QCOMPARE(replayed.responseBodyPreview, QByteArray("short spout"));
        const QString details = window.detailsText();
        QVERIFY2(details.contains(QStringLiteral("Replay: 418")), qPrintable(details));
        QVERIFY(details.contains(QStringLiteral("X-Replayed: yes")));
        QVERIFY(details.contains(QStringLiteral("short spout")));
        // The log itself is unchanged: a replay is not a visitor request.
        QCOMPARE(model.rowCount(), 1);
    }

    void replayToADeadServiceReportsIt()
    {
        quint16 port = 0;
        {
            QTcpServer probe;
            QVERIFY(probe.listen(QHostAddress::LocalHost, 0));
            port = probe.serverPort();
        }
        auto controller = controllerFor(port);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);
        QSignalSpy finished(&window, &tray::RequestLogWindow::replayFinished);
        QVERIFY(window.replaySelected());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        const auto replayed = finished.first().first().value<RequestRecord>();
        QCOMPARE(replayed.status, 502);
        QVERIFY(window.detailsText().contains(QStringLiteral("Replay: 502")));
    }
};

QTEST_MAIN(TestRequestLogWindow)
#include "TestRequestLogWindow.moc"
