#include "RequestLogModel.h"

#include <QColor>
#include <QSignalSpy>
#include <QSortFilterProxyModel>
#include <QTest>

using namespace keyhole;
using client::RequestRecord;
using tray::RequestLogModel;

namespace {

RequestRecord record(const QByteArray &method, const QByteArray &path, int status, const QByteArray &id = {})
{
    RequestRecord r;
    r.id = id.isEmpty() ? method + path : id;
    r.method = method;
    r.path = path;
    r.status = status;
    r.startedAt = QDateTime::currentDateTimeUtc();
    r.durationMs = 12;
    r.bytesOut = 2048;
    return r;
}

QString cell(const QAbstractItemModel &model, int row, int column)
{
    return model.data(model.index(row, column)).toString();
}

} // namespace

class TestRequestLogModel : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void newestFirst()
    {
        RequestLogModel model;
        model.add(record("GET", "/first", 200));
        model.add(record("POST", "/second", 201));
        QCOMPARE(model.rowCount(), 2);
        QCOMPARE(model.columnCount(), int(RequestLogModel::ColumnCount));
        QCOMPARE(cell(model, 0, RequestLogModel::PathColumn), QStringLiteral("/second"));
        QCOMPARE(cell(model, 0, RequestLogModel::MethodColumn), QStringLiteral("POST"));
        QCOMPARE(cell(model, 0, RequestLogModel::StatusColumn), QStringLiteral("201"));
        QCOMPARE(cell(model, 0, RequestLogModel::DurationColumn), QStringLiteral("12 ms"));
        QCOMPARE(cell(model, 0, RequestLogModel::SizeColumn), QStringLiteral("2.0 kB"));
        QCOMPARE(cell(model, 1, RequestLogModel::PathColumn), QStringLiteral("/first"));
        QCOMPARE(model.record(1).id, QByteArray("GET/first"));
        QCOMPARE(model.headerData(RequestLogModel::StatusColumn, Qt::Horizontal).toString(), QStringLiteral("Status"));
    }

    void bounded()
    {
        RequestLogModel model(3);
        QSignalSpy removed(&model, &QAbstractItemModel::rowsRemoved);
        for (int i = 0; i < 5; ++i)
            model.add(record("GET", "/" + QByteArray::number(i), 200));
        QCOMPARE(model.rowCount(), 3);
        QCOMPARE(removed.count(), 2);
        QCOMPARE(cell(model, 0, RequestLogModel::PathColumn), QStringLiteral("/4"));
        QCOMPARE(cell(model, 2, RequestLogModel::PathColumn), QStringLiteral("/2"));
        QCOMPARE(RequestLogModel().capacity(), RequestLogModel::kDefaultCapacity);
    }

    void defaultBoundHolds()
    {
        RequestLogModel model;
        for (int i = 0; i < RequestLogModel::kDefaultCapacity + 10; ++i)
            model.add(record("GET", "/" + QByteArray::number(i), 200));
        QCOMPARE(model.rowCount(), RequestLogModel::kDefaultCapacity);
    }

    void filter_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<QStringList>("paths");
        QTest::newRow("none") << "" << QStringList{"/api/users?page=2", "/login", "/api/items"};
        QTest::newRow("path") << "api" << QStringList{"/api/users?page=2", "/api/items"};
        QTest::newRow("method") << "post" << QStringList{"/login"};
        QTest::newRow("status") << "404" << QStringList{"/api/items"};
        QTest::newRow("query") << "page=2" << QStringList{"/api/users?page=2"};
        QTest::newRow("nothing") << "zzz" << QStringList{};
    }

    void filter()
    {
        QFETCH(QString, text);
        QFETCH(QStringList, paths);
        RequestLogModel model;
        model.add(record("GET", "/api/items", 404));
        model.add(record("POST", "/login", 302));
        RequestRecord withQuery = record("GET", "/api/users", 200);
        withQuery.query = "page=2";
        model.add(withQuery);

        QSortFilterProxyModel proxy;
        proxy.setSourceModel(&model);
        proxy.setFilterKeyColumn(-1);
        proxy.setFilterCaseSensitivity(Qt::CaseInsensitive);
        proxy.setFilterFixedString(text);
        QStringList shown;
        for (int row = 0; row < proxy.rowCount(); ++row)
            shown << cell(proxy, row, RequestLogModel::PathColumn);
        QCOMPARE(shown, paths);

        // New rows pass through the filter as they come.
        model.add(record("GET", "/api/new", 404));
        if (text == QLatin1String("404"))
            QCOMPARE(cell(proxy, 0, RequestLogModel::PathColumn), QStringLiteral("/api/new"));
    }

    void webSocketRows()
    {
        RequestLogModel model;
        RequestRecord ws = record("GET", "/socket", 101);
        ws.kind = RequestRecord::Kind::WebSocket;
        ws.wsEvent = RequestRecord::WsEvent::Closed;
        ws.closeCode = 1000;
        model.add(ws);
        QCOMPARE(cell(model, 0, RequestLogModel::MethodColumn), QStringLiteral("WS"));
        QCOMPARE(cell(model, 0, RequestLogModel::StatusColumn), QStringLiteral("closed 1000"));
    }

    void clear()
    {
        RequestLogModel model;
        model.add(record("GET", "/", 200));
        model.clear();
        QCOMPARE(model.rowCount(), 0);
    }

    void statusColours()
    {
        RequestLogModel model;
        model.add(record("GET", "/ok", 200));
        model.add(record("GET", "/moved", 302));
        model.add(record("GET", "/missing", 404));
        model.add(record("GET", "/boom", 503));
        RequestRecord failed = record("GET", "/down", 502);
        failed.error = QStringLiteral("connection refused");
        model.add(failed);
        QList<QColor> colours;
        for (int row = 0; row < model.rowCount(); ++row)
            colours << model.data(model.index(row, RequestLogModel::StatusColumn), Qt::ForegroundRole).value<QColor>();
        // Newest first: keyhole's 502, 503, 404, 302, 200.
        QCOMPARE(colours.at(0), colours.at(1)); // both red
        QVERIFY(colours.at(1) != colours.at(2));
        QVERIFY(colours.at(2) != colours.at(3));
        QVERIFY(colours.at(3) != colours.at(4));
        QVERIFY(colours.at(4) != colours.at(0));
        QVERIFY(colours.at(4).green() > colours.at(4).red()); // 2xx is green
        QVERIFY(colours.at(1).red() > colours.at(1).green()); // 5xx is red
        // Only the status cell is coloured.
        QVERIFY(!model.data(model.index(0, RequestLogModel::PathColumn), Qt::ForegroundRole).isValid());
        // A long path shows whole in its tooltip (the column elides it).
        QCOMPARE(model.data(model.index(0, RequestLogModel::PathColumn), Qt::ToolTipRole).toString(),
                 QStringLiteral("/down"));
    }

    void recordsOldestFirst()
    {
        RequestLogModel model;
        model.add(record("GET", "/1", 200));
        model.add(record("GET", "/2", 200));
        const QList<RequestRecord> records = model.records();
        QCOMPARE(records.size(), 2);
        QCOMPARE(records.at(0).path, QByteArray("/1"));
        QCOMPARE(records.at(1).path, QByteArray("/2"));
    }

    void curlCommand()
    {
        RequestRecord r = record("POST", "/api/it's", 200);
        r.query = "a=1&b=2";
        r.requestHeaders = {
            {"Host", "abc.localhost:8080"}, {"Content-Type", "application/json"}, {"Content-Length", "9"}};
        r.requestBodyPreview = "{\"x\":\"'\"}";
        const QString curl = RequestLogModel::curlCommand(r, QUrl(QStringLiteral("http://127.0.0.1:3000")));
        QCOMPARE(curl,
                 QStringLiteral("curl -X 'POST' 'http://127.0.0.1:3000/api/it'\\''s?a=1&b=2' "
                                "-H 'Host: abc.localhost:8080' -H 'Content-Type: application/json' "
                                "--data-binary '{\"x\":\"'\\''\"}'"));
        const QString get = RequestLogModel::curlCommand(record("GET", "", 200), QUrl(QStringLiteral("http://h:1/")));
        QCOMPARE(get, QStringLiteral("curl 'http://h:1/'"));
    }

    void curlCommandHasNoControlCharacters_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<bool>("inlined");
        QTest::newRow("one-line JSON") << QByteArray("{\"a\":1}") << true;
        QTest::newRow("accented text") << QByteArray("caf\xc3\xa9") << true;
        QTest::newRow("terminal escape") << QByteArray("x\x1b]0;pwned\x07\x1b[2J") << false;
        QTest::newRow("newline then a command") << QByteArray("a'\nrm -rf ~\n") << false;
        QTest::newRow("carriage return") << QByteArray("visible\rhidden") << false;
        QTest::newRow("binary") << QByteArray("\x00\x01\xff\xfe", 4) << false;
        QTest::newRow("invalid UTF-8") << QByteArray("abc\xc3") << false;
        QTest::newRow("bidi override") << QByteArray("safe \xe2\x80\xae txet") << false;
        QTest::newRow("C1 control") << QByteArray("a\xc2\x9b"
                                                  "2J")
                                    << false;
    }

    void curlCommandHasNoControlCharacters()
    {
        QFETCH(QByteArray, body);
        QFETCH(bool, inlined);
        RequestRecord r = record("POST", "/upload", 200);
        r.requestBodyPreview = body;
        const QString curl = RequestLogModel::curlCommand(r, QUrl(QStringLiteral("http://127.0.0.1:3000")));
        for (const QChar c : curl)
            QVERIFY2(c.unicode() >= 0x20 && c.unicode() != 0x7f && c.category() != QChar::Other_Control
                         && c.category() != QChar::Other_Format,
                     qPrintable(QStringLiteral("U+%1 in %2").arg(c.unicode(), 4, 16, QLatin1Char('0')).arg(curl)));
        if (inlined) {
            QVERIFY2(curl.endsWith(QStringLiteral("--data-binary '%1'").arg(QString::fromUtf8(body))),
                     qPrintable(curl));
            return;
        }
        // The exact bytes, base64-encoded, go to curl's standard input.
        const QString expected = QStringLiteral("printf '%s' '%1' | base64 --decode | curl -X 'POST' "
                                                "'http://127.0.0.1:3000/upload' --data-binary @-")
                                     .arg(QString::fromLatin1(body.toBase64()));
        QCOMPARE(curl, expected);
    }

    void curlCommandEscapesTargetAndDropsUnsafeHeaders()
    {
        RequestRecord r = record("GET", "/a\r\nb c", 200);
        r.query = QByteArray("q=\x1b[31m");
        r.requestHeaders = {{"X-Ok", "fine"},
                            {"X-Injected", "v\r\nX-Evil: 1"},
                            {"X-Escape", "\x1b[2J"},
                            {"Bad Name", "v"},
                            {"X-Bidi",
                             "\xe2\x80\xae"
                             "abc"}};
        const QString curl = RequestLogModel::curlCommand(r, QUrl(QStringLiteral("http://127.0.0.1:3000")));
        QCOMPARE(curl, QStringLiteral("curl 'http://127.0.0.1:3000/a%0D%0Ab%20c?q=%1B[31m' -H 'X-Ok: fine'"));
    }
};

QTEST_GUILESS_MAIN(TestRequestLogModel)
#include "TestRequestLogModel.moc"
