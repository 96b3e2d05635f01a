#include "HarLog.h"
#include "TestEnvironment.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

using namespace keyhole;
using client::HarLog;
using client::RequestRecord;

namespace {

// A HAR reader: Python's json module and every field HAR 1.2 requires, with its type. Prints one
// line a problem and exits 1 when there is any; prints the entry count otherwise.
const char *const kHarCheck = R"PY(
import json, sys
har = json.load(open(sys.argv[1], encoding="utf-8"))
problems = []
def need(obj, where, fields):
    for name, kind in fields:
        if name not in obj:
            problems.append(f"{where}: no {name}")
        elif not isinstance(obj[name], kind) or (kind is int and isinstance(obj[name], bool)):
            problems.append(f"{where}.{name}: {type(obj[name]).__name__}")
num = (int, float)
log = har["log"]
need(log, "log", [("version", str), ("creator", dict), ("entries", list)])
need(log["creator"], "creator", [("name", str), ("version", str)])
pairs = [("name", str), ("value", str)]
for i, e in enumerate(log["entries"]):
    w = f"entries[{i}]"
    need(e, w, [("startedDateTime", str), ("time", num), ("request", dict), ("response", dict),
                ("cache", dict), ("timings", dict)])
    from datetime import datetime
    datetime.fromisoformat(e["startedDateTime"].replace("Z", "+00:00"))
    q = e["request"]
    need(q, w + ".request", [("method", str), ("url", str), ("httpVersion", str), ("cookies", list),
                             ("headers", list), ("queryString", list), ("headersSize", num), ("bodySize", num)])
    for h in q["headers"] + q["queryString"]:
        need(h, w + ".request.headers", pairs)
    if "postData" in q:
        need(q["postData"], w + ".postData", [("mimeType", str), ("text", str)])
    r = e["response"]
    need(r, w + ".response", [("status", int), ("statusText", str), ("httpVersion", str), ("cookies", list),
                              ("headers", list), ("content", dict), ("redirectURL", str), ("headersSize", num),
                              ("bodySize", num)])
    for h in r["headers"]:
        need(h, w + ".response.headers", pairs)
    need(r["content"], w + ".content", [("size", num), ("mimeType", str)])
    need(e["timings"], w + ".timings", [("send", num), ("wait", num), ("receive", num)])
for p in problems:
    print(p)
print(len(log["entries"]))
sys.exit(1 if problems else 0)
)PY";

RequestRecord jsonPost()
{
    RequestRecord r;
    r.id = "a";
    r.method = "POST";
    r.path = "/api/users";
    r.query = "page=2&q=caf%C3%A9+au+lait";
    r.remoteAddress = QStringLiteral("203.0.113.9");
    r.startedAt = QDateTime(QDate(2026, 3, 1), QTime(12, 30, 5, 250), Qt::UTC);
    r.durationMs = 42;
    r.status = 201;
    r.requestHeaders = {{"Host", "abc.keyhole.example"}, {"Content-Type", "application/json"}};
    r.requestBodyPreview = "{\"name\":\"ann\"}";
    r.bytesIn = r.requestBodyPreview.size();
    r.responseHeaders = {{"Content-Type", "application/json"}, {"Location", "/api/users/7"}};
    r.responseBodyPreview = "{\"id\":7}";
    r.bytesOut = r.responseBodyPreview.size();
    return r;
}

RequestRecord binaryUpload()
{
    RequestRecord r = jsonPost();
    r.id = "b";
    r.path = "/upload";
    r.query.clear();
    r.status = 502;
    r.error = QStringLiteral("connection refused");
    r.requestHeaders = {{"Host", "abc.keyhole.example"}, {"Content-Type", "image/png"}};
    r.requestBodyPreview = QByteArray("\x89PNG\r\n\x1a\n\x00\xff", 10);
    r.bytesIn = 100000;
    r.requestBodyTruncated = true;
    r.responseHeaders.clear();
    r.responseBodyPreview.clear();
    r.bytesOut = 0;
    return r;
}

} // namespace

class TestHarLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void entryFields()
    {
        const QJsonObject e = HarLog::entry(jsonPost());
        QCOMPARE(e.value(QStringLiteral("startedDateTime")).toString(), QStringLiteral("2026-03-01T12:30:05.250Z"));
        const QJsonObject request = e.value(QStringLiteral("request")).toObject();
        QCOMPARE(request.value(QStringLiteral("url")).toString(),
                 QStringLiteral("https://abc.keyhole.example/api/users?page=2&q=caf%C3%A9+au+lait"));
        const QJsonArray query = request.value(QStringLiteral("queryString")).toArray();
        QCOMPARE(query.size(), 2);
        QCOMPARE(query.at(1).toObject().value(QStringLiteral("value")).toString(), QStringLiteral("café au lait"));
        QCOMPARE(request.value(QStringLiteral("postData")).toObject().value(QStringLiteral("text")).toString(),
                 QStringLiteral("{\"name\":\"ann\"}"));
        const QJsonObject response = e.value(QStringLiteral("response")).toObject();
        QCOMPARE(response.value(QStringLiteral("redirectURL")).toString(), QStringLiteral("/api/users/7"));
        QCOMPARE(response.value(QStringLiteral("content")).toObject().value(QStringLiteral("text")).toString(),
                 QStringLiteral("{\"id\":7}"));
    }

    void binaryAndTruncatedBodies()
    {
        const QJsonObject e = HarLog::entry(binaryUpload());
        const QJsonObject post =
            e.value(QStringLiteral("request")).toObject().value(QStringLiteral("postData")).toObject();
        QCOMPARE(post.value(QStringLiteral("encoding")).toString(), QStringLiteral("base64"));
        QCOMPARE(QByteArray::fromBase64(post.value(QStringLiteral("text")).toString().toLatin1()),
                 binaryUpload().requestBodyPreview);
        QVERIFY(post.value(QStringLiteral("comment")).toString().contains(QStringLiteral("10 of 100000")));
        QCOMPARE(e.value(QStringLiteral("request")).toObject().value(QStringLiteral("bodySize")).toDouble(), 100000.0);
    }

    void aHarReaderParsesIt()
    {
        RequestRecord ws = jsonPost();
        ws.kind = RequestRecord::Kind::WebSocket; // not HTTP: left out
        RequestRecord hostless = jsonPost();
        hostless.requestHeaders.clear();
        hostless.path.clear();
        hostless.status = 0; // no answer at all
        const QByteArray har = HarLog::document({jsonPost(), binaryUpload(), ws, hostless});

        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("log.har"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(har);
        file.close();

        QProcess python;
        python.start(testing::pythonProgram(), {QStringLiteral("-c"), QString::fromUtf8(kHarCheck), path});
        QVERIFY2(python.waitForFinished(30000), qPrintable(python.errorString()));
        const QByteArray out = python.readAllStandardOutput();
        QVERIFY2(python.exitCode() == 0, (out + python.readAllStandardError()).constData());
        QCOMPARE(out.trimmed(), QByteArray("3"));
    }
};

QTEST_GUILESS_MAIN(TestHarLog)
#include "TestHarLog.moc"
