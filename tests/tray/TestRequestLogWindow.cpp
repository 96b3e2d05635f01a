#include "CannedHttpService.h"
#include "RequestLogFilter.h"
#include "RequestLogModel.h"
#include "RequestLogWindow.h"
#include "TestEnvironment.h"
#include "TrayController.h"

#include <QApplication>
#include <QClipboard>
#include <QComboBox>
#include <QGuiApplication>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QLabel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QProcess>
#include <QPushButton>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
#include <QTemporaryDir>
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

RequestRecord withStatus(const QByteArray &path, int status, const QString &error = {})
{
    RequestRecord r = capturedPost();
    r.id = path;
    r.method = "GET";
    r.path = path;
    r.query.clear();
    r.status = status;
    r.error = error;
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

    void replayWithChangesReachesTheService()
    {
        CannedHttpService service("HTTP/1.1 201 Created\r\nContent-Length: 7\r\n\r\nchanged");
        QVERIFY(service.isListening());
        auto controller = controllerFor(service.port());
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);

        auto *method = window.findChild<QLineEdit *>(QStringLiteral("editMethod"));
        auto *target = window.findChild<QLineEdit *>(QStringLiteral("editTarget"));
        auto *headers = window.findChild<QPlainTextEdit *>(QStringLiteral("editHeaders"));
        auto *body = window.findChild<QPlainTextEdit *>(QStringLiteral("editBody"));
        QVERIFY(method && target && headers && body);
        // The editor starts from the captured request.
        QCOMPARE(method->text(), QStringLiteral("POST"));
        QCOMPARE(target->text(), QStringLiteral("/hooks/github?delivery=7"));
        QVERIFY(headers->toPlainText().contains(QStringLiteral("X-Hub-Event: push\n")));
        QCOMPARE(body->toPlainText(), QStringLiteral("{\"ref\":\"main\"}"));

        method->setText(QStringLiteral("PATCH"));
        // New traffic does not wipe an edit in progress.
        model.add(withStatus("/meanwhile", 200));
        QCOMPARE(window.selectedRecord()->id, QByteArray("req-42"));
        QCOMPARE(method->text(), QStringLiteral("PATCH"));
        target->setText(QStringLiteral("/hooks/gitlab?delivery=8&retry=1"));
        headers->setPlainText(QStringLiteral("Host: abc.localhost:8080\nContent-Type: application/json\n"
                                             "X-Hub-Event: release\nX-Added: it's \"new\"\nContent-Length: 13\n"));
        body->setPlainText(QStringLiteral("{\"ref\":\"release/1.0\",\"n\":2}"));
        QSignalSpy finished(&window, &tray::RequestLogWindow::replayFinished);
        QTest::mouseClick(window.findChild<QPushButton *>(QStringLiteral("sendEdited")), Qt::LeftButton);
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);

        QCOMPARE(service.requests(), 1);
        const QByteArray received = service.received();
        QVERIFY2(received.startsWith("PATCH /hooks/gitlab?delivery=8&retry=1 HTTP/1.1\r\n"), received.constData());
        QVERIFY(received.contains("\r\nX-Hub-Event: release\r\n"));
        QVERIFY(!received.contains("X-Hub-Event: push"));
        QVERIFY(received.contains("\r\nX-Added: it's \"new\"\r\n"));
        QVERIFY2(received.contains("\r\nContent-Length: 27\r\n"), received.constData()); // the edited body's, not 13
        QVERIFY(received.endsWith("\r\n\r\n{\"ref\":\"release/1.0\",\"n\":2}"));
        QCOMPARE(finished.first().first().value<RequestRecord>().status, 201);
        QVERIFY(window.detailsText().contains(QStringLiteral("Replay: 201")));
        // The log keeps the visitor's request (and the one that came meanwhile); a replay adds none.
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.record(1).method, QByteArray("POST"));
    }

    void replayWithChangesRefusesAnInvalidRequest_data()
    {
        QTest::addColumn<QString>("method");
        QTest::addColumn<QString>("target");
        QTest::addColumn<QString>("headers");
        QTest::newRow("method with a space") << QStringLiteral("GET /x") << QStringLiteral("/") << QString();
        QTest::newRow("path without /") << QStringLiteral("GET") << QStringLiteral("x") << QString();
        QTest::newRow("space in the path") << QStringLiteral("GET") << QStringLiteral("/a b") << QString();
        QTest::newRow("header without a colon")
            << QStringLiteral("GET") << QStringLiteral("/") << QStringLiteral("X-A");
        QTest::newRow("escape in a value")
            << QStringLiteral("GET") << QStringLiteral("/") << QStringLiteral("X-A: a\x1b[2J");
    }

    void replayWithChangesRefusesAnInvalidRequest()
    {
        QFETCH(QString, method);
        QFETCH(QString, target);
        QFETCH(QString, headers);
        CannedHttpService service("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        auto controller = controllerFor(service.port());
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);
        window.findChild<QLineEdit *>(QStringLiteral("editMethod"))->setText(method);
        window.findChild<QLineEdit *>(QStringLiteral("editTarget"))->setText(target);
        window.findChild<QPlainTextEdit *>(QStringLiteral("editHeaders"))->setPlainText(headers);
        QVERIFY(!window.replayEdited());
        QVERIFY(
            window.findChild<QLabel *>(QStringLiteral("editStatus"))->text().startsWith(QStringLiteral("Not sent")));
        QTest::qWait(50);
        QCOMPARE(service.requests(), 0);
    }

    void replayWithChangesCompletesATruncatedBody()
    {
        CannedHttpService service("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n");
        auto controller = controllerFor(service.port());
        QVERIFY(controller);
        RequestRecord r = capturedPost();
        r.bytesIn = 100000; // the log kept only the start
        r.requestBodyTruncated = true;
        tray::RequestLogModel model;
        model.add(r);
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);
        QVERIFY(!window.replaySelected()); // as it was: refused
        window.findChild<QPlainTextEdit *>(QStringLiteral("editBody"))->setPlainText(QStringLiteral("whole"));
        QSignalSpy finished(&window, &tray::RequestLogWindow::replayFinished);
        QVERIFY(window.replayEdited());
        QTRY_COMPARE_WITH_TIMEOUT(finished.count(), 1, 10000);
        QVERIFY(service.received().endsWith("\r\nContent-Length: 5\r\n\r\nwhole"));
    }

    void bodyTabsPrettyPrintJsonAndDumpBinary()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        RequestRecord r = capturedPost();
        r.responseHeaders = {{"Content-Type", "image/png"}};
        r.responseBodyPreview = QByteArray("\x89PNG\r\n\x1a\n\x00\xff", 10);
        r.bytesOut = 5000;
        r.responseBodyTruncated = true;
        tray::RequestLogModel model;
        model.add(r);
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);

        const QString request = window.findChild<QPlainTextEdit *>(QStringLiteral("requestBody"))->toPlainText();
        QCOMPARE(request, QStringLiteral("{\n    \"ref\": \"main\"\n}"));
        const QString response = window.findChild<QPlainTextEdit *>(QStringLiteral("responseBody"))->toPlainText();
        QVERIFY2(response.startsWith(QStringLiteral("00000000  89 50 4e 47 0d 0a 1a 0a  00 ff")), qPrintable(response));
        QVERIFY(response.endsWith(QStringLiteral("|.PNG......|\n")));
        // No mojibake anywhere: the summary names the binary body instead of decoding it.
        const QString summary = window.detailsText();
        QVERIFY2(summary.contains(QStringLiteral("(5000 bytes of binary")), qPrintable(summary));
        for (const QChar c : summary)
            QVERIFY(c == QLatin1Char('\n')
                    || (c != QChar::ReplacementCharacter && c.category() != QChar::Other_Control));
        const auto labels = window.findChildren<QLabel *>();
        const bool told = std::any_of(labels.begin(), labels.end(), [](QLabel *label) {
            return label->text().startsWith(QStringLiteral("binary, 4.9 kB (image/png): only the first 10 bytes"));
        });
        QVERIFY(told);
    }

    void headersTabIsATable()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);
        auto *request = window.findChild<QTableWidget *>(QStringLiteral("requestHeaders"));
        auto *response = window.findChild<QTableWidget *>(QStringLiteral("responseHeaders"));
        QVERIFY(request && response);
        QCOMPARE(request->rowCount(), 4);
        QCOMPARE(request->item(2, 0)->text(), QStringLiteral("X-Hub-Event"));
        QCOMPARE(request->item(2, 1)->text(), QStringLiteral("push"));
        QCOMPARE(response->rowCount(), 1);
        QCOMPARE(response->item(0, 1)->text(), QStringLiteral("text/plain"));
        QVERIFY(window.findChild<QLabel *>(QStringLiteral("timing"))->text().contains(QStringLiteral("5 ms")));
    }

    void statusFilter_data()
    {
        QTest::addColumn<int>("comboIndex");
        QTest::addColumn<QStringList>("paths");
        QTest::newRow("all") << 0 << QStringList{"/gone", "/boom", "/missing", "/moved", "/ok", "/made"};
        QTest::newRow("2xx") << 1 << QStringList{"/ok", "/made"};
        QTest::newRow("3xx") << 2 << QStringList{"/moved"};
        QTest::newRow("4xx") << 3 << QStringList{"/missing"};
        QTest::newRow("5xx") << 4 << QStringList{"/gone", "/boom"};
        QTest::newRow("errors") << 5 << QStringList{"/gone"};
    }

    void statusFilter()
    {
        QFETCH(int, comboIndex);
        QFETCH(QStringList, paths);
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(withStatus("/made", 201));
        model.add(withStatus("/ok", 200));
        model.add(withStatus("/moved", 301));
        model.add(withStatus("/missing", 404));
        model.add(withStatus("/boom", 500));
        model.add(withStatus("/gone", 502, QStringLiteral("connection refused")));
        tray::RequestLogWindow window(&model, controller.get());
        window.findChild<QComboBox *>(QStringLiteral("statusFilter"))->setCurrentIndex(comboIndex);
        QStringList shown;
        for (int row = 0; row < window.filterModel()->rowCount(); ++row)
            shown << window.filterModel()->index(row, tray::RequestLogModel::PathColumn).data().toString();
        QCOMPARE(shown, paths);
        // With the text filter too.
        QTest::keyClicks(window.findChild<QLineEdit *>(QStringLiteral("filter")), QStringLiteral("o"));
        QCOMPARE(window.filterModel()->rowCount(), int(paths.filter(QStringLiteral("o")).size()));
    }

    void exportHarOfTheLogAndTheSelection()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(withStatus("/first", 200));
        RequestRecord binary = withStatus("/second", 200);
        binary.responseBodyPreview = QByteArray("\x00\x01\xfe", 3);
        binary.bytesOut = 3;
        model.add(binary);
        tray::RequestLogWindow window(&model, controller.get());
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString all = dir.filePath(QStringLiteral("all.har"));
        const QString one = dir.filePath(QStringLiteral("one.har"));
        QString error;
        QVERIFY(!window.exportHar(one, true, &error)); // nothing selected
        QVERIFY(window.exportHar(all, false, &error));
        window.selectRow(1);
        QVERIFY(window.exportHar(one, true, &error));

        // A HAR reader (Python's json module) reads both; entries in the order they happened.
        const char *script = "import json,sys\n"
                             "for p in sys.argv[1:]:\n"
                             "  log=json.load(open(p))['log']\n"
                             "  assert log['version']=='1.2' and log['creator']['name']\n"
                             "  print(' '.join(e['request']['url'] for e in log['entries']))\n";
        QProcess python;
        python.start(testing::pythonProgram(), {QStringLiteral("-c"), QString::fromLatin1(script), all, one});
        QVERIFY(python.waitForFinished(30000));
        QVERIFY2(python.exitCode() == 0, python.readAllStandardError().constData());
        QCOMPARE(python.readAllStandardOutput(),
                 QByteArray("https://abc.localhost:8080/first https://abc.localhost:8080/second\n"
                            "https://abc.localhost:8080/first\n"));
    }

    void copyAsCurlPutsTheCommandOnTheClipboard()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        tray::RequestLogWindow window(&model, controller.get());
        window.selectRow(0);
        QGuiApplication::clipboard()->clear();
        const auto buttons = window.findChildren<QPushButton *>();
        for (QPushButton *button : buttons) {
            if (button->text() == QStringLiteral("Copy as curl"))
                button->click();
        }
        QCOMPARE(QGuiApplication::clipboard()->text(), window.curlForSelection());
    }

    void keyboardShortcuts()
    {
        auto controller = controllerFor(3000);
        QVERIFY(controller);
        tray::RequestLogModel model;
        model.add(capturedPost());
        model.add(withStatus("/health", 200));
        tray::RequestLogWindow window(&model, controller.get());
        window.show();
        QApplication::setActiveWindow(&window);
        QVERIFY(QTest::qWaitForWindowActive(&window));
        auto *table = window.findChild<QTableView *>(QStringLiteral("requests"));
        auto *filter = window.findChild<QLineEdit *>(QStringLiteral("filter"));
        auto *tabs = window.findChild<QTabWidget *>(QStringLiteral("detailsTabs"));
        auto *splitter = window.findChild<QSplitter *>();
        QVERIFY(table && filter && tabs && splitter);

        // Ctrl+F: to the filter.
        table->setFocus();
        QTest::keyClick(table, Qt::Key_F, Qt::ControlModifier);
        QTRY_VERIFY(filter->hasFocus());
        // Enter in the filter: to the first match; Enter on a row: its details, even when folded away.
        QTest::keyClicks(filter, QStringLiteral("hooks"));
        QTest::keyClick(filter, Qt::Key_Return);
        QTRY_VERIFY(table->hasFocus());
        QCOMPARE(window.selectedRecord()->path, QByteArray("/hooks/github"));
        splitter->setSizes({splitter->height(), 0});
        QCOMPARE(splitter->sizes().at(1), 0);
        QTest::keyClick(table, Qt::Key_Return);
        QTRY_VERIFY(tabs->hasFocus());
        QVERIFY(splitter->sizes().at(1) > 0);
        // Esc: closes.
        QTest::keyClick(tabs, Qt::Key_Escape);
        QTRY_VERIFY(!window.isVisible());
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
