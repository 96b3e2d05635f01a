#include "util/Logging.h"

#include <QDateTime>
#include <QJsonDocument>
#include <QJsonObject>

#include <cstdio>
#include <cstdlib>
#include <mutex>

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcProtocol, "keyhole.protocol", QtInfoMsg)
Q_LOGGING_CATEGORY(lcCrypto, "keyhole.crypto", QtInfoMsg)
Q_LOGGING_CATEGORY(lcHttp, "keyhole.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcWebSocket, "keyhole.websocket", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProxy, "keyhole.proxy", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProxyHttp, "keyhole.proxy.http", QtInfoMsg)
Q_LOGGING_CATEGORY(lcProxyTunnel, "keyhole.proxy.tunnel", QtInfoMsg)
Q_LOGGING_CATEGORY(lcBus, "keyhole.proxy.bus", QtInfoMsg)
Q_LOGGING_CATEGORY(lcClient, "keyhole.client", QtInfoMsg)
Q_LOGGING_CATEGORY(lcForwarder, "keyhole.client.forwarder", QtInfoMsg)

namespace keyhole::util {

namespace {

LogFormat g_format = LogFormat::Text;
std::mutex g_writeMutex;

const char *levelName(QtMsgType type)
{
    switch (type) {
    case QtDebugMsg: return "debug";
    case QtInfoMsg: return "info";
    case QtWarningMsg: return "warning";
    case QtCriticalMsg: return "critical";
    case QtFatalMsg: return "fatal";
    }
    return "info";
}

void writeLine(const QByteArray &line)
{
    // One fwrite per whole line, under a lock, so lines from several threads never interleave.
    const std::lock_guard<std::mutex> lock(g_writeMutex);
    std::fwrite(line.constData(), 1, size_t(line.size()), stderr);
    std::fflush(stderr);
}

void messageHandler(QtMsgType type, const QMessageLogContext &context, const QString &msg)
{
    const QString ts = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs);
    const char *category = context.category ? context.category : "default";
    QByteArray line;
    if (g_format == LogFormat::Json) {
        QJsonObject obj;
        obj.insert(QStringLiteral("ts"), ts);
        obj.insert(QStringLiteral("level"), QLatin1String(levelName(type)));
        obj.insert(QStringLiteral("category"), QLatin1String(category));
        obj.insert(QStringLiteral("msg"), msg);
        line = QJsonDocument(obj).toJson(QJsonDocument::Compact);
    } else {
        QString text = msg;
        // A message must not forge further log lines.
        text.replace(QLatin1Char('\n'), QLatin1String("\\n"));
        line.reserve(64 + text.size());
        line += ts.toUtf8();
        line += ' ';
        line += levelName(type);
        line += ' ';
        line += category;
        line += ": ";
        line += text.toUtf8();
    }
    line += '\n';
    writeLine(line);
    if (type == QtFatalMsg)
        std::abort();
}

} // namespace

void installLogFormat(LogFormat format)
{
    g_format = format;
    qInstallMessageHandler(&messageHandler);
}

} // namespace keyhole::util
