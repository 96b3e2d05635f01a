#include "util/Logging.h"

#include "util/BatchedOutput.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <cstdlib>
#include <mutex>

namespace keyhole::util {

namespace {

LogFormat g_format = LogFormat::Text;

// "2026-01-01T00:00:00.000Z". The part up to the second is formatted once per second: formatting
// a QDateTime for every line was a tenth of the proxy's CPU at full load.
void appendTimestamp(QByteArray &out)
{
    static std::mutex cacheMutex;
    static qint64 cachedSecs = -1;
    static QByteArray cachedPrefix;

    const qint64 ms = QDateTime::currentMSecsSinceEpoch();
    const qint64 secs = ms / 1000;
    const int millis = int(ms % 1000);
    {
        const std::lock_guard<std::mutex> lock(cacheMutex);
        if (secs != cachedSecs) {
            cachedSecs = secs;
            cachedPrefix = QDateTime::fromSecsSinceEpoch(secs, Qt::UTC).toString(Qt::ISODate).toLatin1();
            cachedPrefix.chop(1); // the 'Z'
            cachedPrefix += '.';
        }
        out += cachedPrefix;
    }
    const char digits[4] = {char('0' + millis / 100), char('0' + millis / 10 % 10), char('0' + millis % 10), 'Z'};
    out.append(digits, 4);
}

bool g_handlerInstalled = false;

// One line, as the installed handler writes every message. `text` is the message in UTF-8.
void writeLine(QtMsgType type, const char *category, QByteArray text)
{
    QByteArray line;
    if (g_format == LogFormat::Json) {
        QJsonObject obj;
        QByteArray ts;
        appendTimestamp(ts);
        obj.insert(QStringLiteral("ts"), QString::fromLatin1(ts));
        obj.insert(QStringLiteral("level"), QLatin1String(messageTypeName(type)));
        obj.insert(QStringLiteral("category"), QLatin1String(category));
        obj.insert(QStringLiteral("msg"), QString::fromUtf8(text));
        line = QJsonDocument(obj).toJson(QJsonDocument::Compact);
    } else {
        // A message must not forge further log lines.
        if (text.contains('\n'))
            text.replace('\n', "\\n");
        line.reserve(64 + text.size());
        appendTimestamp(line);
        line += ' ';
        line += messageTypeName(type);
        line += ' ';
        line += category;
        line += ": ";
        line += text;
    }
    line += '\n';
    // Warnings and worse go out at once; info lines may wait for the end of the event-loop pass.
    BatchedOutput::standardError().writeLine(line, type != QtInfoMsg && type != QtDebugMsg);
    if (type == QtFatalMsg)
        std::abort();
}

void messageHandler(QtMsgType type, const QMessageLogContext &context, const QString &msg)
{
    writeLine(type, context.category ? context.category : "default", msg.toUtf8());
}

} // namespace

void installLogLevel(LogLevel level)
{
    switch (level) {
    case LogLevel::Debug:
        QLoggingCategory::setFilterRules(QStringLiteral("keyhole.*.debug=true\nkeyhole.*.info=true"));
        break;
    case LogLevel::Info:
        QLoggingCategory::setFilterRules(QStringLiteral("keyhole.*.debug=false\nkeyhole.*.info=true"));
        break;
    case LogLevel::Warning:
        QLoggingCategory::setFilterRules(QStringLiteral("keyhole.*.debug=false\nkeyhole.*.info=false"));
        break;
    }
}

bool parseLogLevel(const QString &text, LogLevel *level)
{
    if (text == QLatin1String("debug"))
        *level = LogLevel::Debug;
    else if (text == QLatin1String("info"))
        *level = LogLevel::Info;
    else if (text == QLatin1String("warning"))
        *level = LogLevel::Warning;
    else
        return false;
    return true;
}

void installLogFormat(LogFormat format)
{
    g_format = format;
    qInstallMessageHandler(&messageHandler);
    g_handlerInstalled = true;
}

void logInfoLine(const QLoggingCategory &category, const QByteArray &text)
{
    if (!category.isInfoEnabled())
        return;
    if (!g_handlerInstalled) { // someone else's handler (a test's) sees it the usual way
        QMessageLogger(nullptr, 0, nullptr, category.categoryName()).info().noquote() << QString::fromUtf8(text);
        return;
    }
    writeLine(QtInfoMsg, category.categoryName(), text);
}

const char *messageTypeName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg:
        return "debug";
    case QtInfoMsg:
        return "info";
    case QtWarningMsg:
        return "warning";
    case QtCriticalMsg:
        return "critical";
    case QtFatalMsg:
        return "fatal";
    }
    return "info";
}

} // namespace keyhole::util
