#include "ReplaceFile.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QRandomGenerator>

#ifdef Q_OS_WIN
#include <windows.h>
#else
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <unistd.h>
#endif

namespace keyhole::client {

namespace {

constexpr int kNameAttempts = 16;

std::function<void(const QString &)> &createdHook()
{
    static std::function<void(const QString &)> hook;
    return hook;
}

// rename(2) replaces the directory entry, whatever it is: a symlink there is not followed.
bool renameOver(const QString &from, const QString &to, QString *error)
{
#ifdef Q_OS_WIN
    const QString nativeFrom = QDir::toNativeSeparators(from);
    const QString nativeTo = QDir::toNativeSeparators(to);
    if (MoveFileExW(reinterpret_cast<const wchar_t *>(nativeFrom.utf16()),
                    reinterpret_cast<const wchar_t *>(nativeTo.utf16()),
                    MOVEFILE_REPLACE_EXISTING | MOVEFILE_WRITE_THROUGH))
        return true;
    *error = QStringLiteral("cannot replace %1 (error %2)").arg(to).arg(GetLastError());
    return false;
#else
    if (::rename(QFile::encodeName(from).constData(), QFile::encodeName(to).constData()) == 0)
        return true;
    *error = QStringLiteral("cannot replace %1: %2").arg(to, QString::fromLocal8Bit(std::strerror(errno)));
    return false;
#endif
}

} // namespace

void ReplaceFile::setCreatedHookForTests(std::function<void(const QString &)> hook)
{
    createdHook() = std::move(hook);
}

bool ReplaceFile::write(const QString &path, const QByteArray &data, QFileDevice::Permissions permissions,
                        QString *error)
{
    const QFileInfo info(path);
    const QString folder = info.absolutePath();
    if (!QDir().mkpath(folder)) {
        *error = QStringLiteral("cannot create the folder %1").arg(folder);
        return false;
    }

    // NewOnly is O_CREAT|O_EXCL: it neither follows a symlink nor opens an existing file, and the
    // permissions are those of the open call itself, so no byte is ever readable by others.
    QFile temp;
    bool created = false;
    for (int attempt = 0; attempt < kNameAttempts && !created; ++attempt) {
        const QString suffix = QString::number(QRandomGenerator::system()->generate64(), 36);
        temp.setFileName(folder + QLatin1String("/.") + info.fileName() + QLatin1String(".tmp-") + suffix);
        created = temp.open(QIODevice::WriteOnly | QIODevice::NewOnly, permissions);
    }
    if (!created) {
        *error = QStringLiteral("cannot create a file in %1: %2").arg(folder, temp.errorString());
        return false;
    }
    if (createdHook())
        createdHook()(temp.fileName());

    bool written = temp.write(data) == data.size() && temp.flush();
#ifndef Q_OS_WIN
    // On disk before the rename makes it the file: a crash leaves the old file or the whole new one.
    written = written && ::fsync(temp.handle()) == 0;
#endif
    if (!written) {
        *error = QStringLiteral("cannot write %1: %2").arg(path, temp.errorString());
        temp.close();
        temp.remove();
        return false;
    }
    temp.close();
    if (!renameOver(temp.fileName(), info.absoluteFilePath(), error)) {
        QFile::remove(temp.fileName());
        return false;
    }
    return true;
}

} // namespace keyhole::client
