#include "AppLog.h"

#include "util/Logging.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QStandardPaths>

#include <memory>
#include <mutex>

namespace keyhole::tray {

namespace {

struct LogState {
    std::mutex mutex;
    std::unique_ptr<QFile> file;
    QString path;
    qint64 maxBytes = AppLog::kDefaultMaxBytes;
    QtMessageHandler previous = nullptr;
};

LogState &state()
{
    static LogState s;
    return s;
}

bool openFile(LogState &s)
{
    s.file = std::make_unique<QFile>(s.path);
    if (s.file->open(QIODevice::Append | QIODevice::Text))
        return true;
    s.file.reset();
    return false;
}

void handler(QtMsgType type, const QMessageLogContext &context, const QString &msg)
{
    LogState &s = state();
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        if (s.file) {
            QByteArray text = msg.toUtf8();
            text.replace('\n', "\\n"); // one message, one line
            QByteArray line = QDateTime::currentDateTimeUtc().toString(Qt::ISODateWithMs).toLatin1();
            line += ' ';
            line += util::messageTypeName(type);
            line += ' ';
            line += context.category ? context.category : "default";
            line += ": ";
            line += text;
            line += '\n';
            if (s.file->size() + line.size() > s.maxBytes) {
                s.file->close();
                const QString old = s.path + QStringLiteral(".1");
                QFile::remove(old);
                QFile::rename(s.path, old);
                openFile(s);
            }
            if (s.file) {
                s.file->write(line);
                s.file->flush();
            }
        }
    }
    if (s.previous)
        s.previous(type, context, msg);
}

} // namespace

QString AppLog::defaultPath()
{
    return QDir(QStandardPaths::writableLocation(QStandardPaths::AppLocalDataLocation))
        .filePath(QStringLiteral("keyhole.log"));
}

bool AppLog::install(const QString &path, qint64 maxBytes, QString *error)
{
    LogState &s = state();
    {
        std::lock_guard<std::mutex> lock(s.mutex);
        s.path = path;
        s.maxBytes = maxBytes;
        if (!QDir().mkpath(QFileInfo(path).absolutePath()) || !openFile(s)) {
            if (error)
                *error = QStringLiteral("cannot write the log file %1").arg(path);
            s.path.clear();
            return false;
        }
    }
    QtMessageHandler previous = qInstallMessageHandler(&handler);
    if (previous != &handler)
        s.previous = previous;
    return true;
}

void AppLog::uninstall()
{
    LogState &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    s.file.reset();
    s.path.clear();
}

QString AppLog::path()
{
    LogState &s = state();
    std::lock_guard<std::mutex> lock(s.mutex);
    return s.path;
}

} // namespace keyhole::tray
