#pragma once

#include <QString>
#include <QtGlobal>

namespace keyhole::tray {

// The tray app's log file, so "Open log" shows what happened without a terminal: every message also
// goes to a file (besides stderr), bounded: past maxBytes the file becomes <file>.1 (replacing the
// previous one) and a new file starts, so the log never takes more than twice maxBytes.
class AppLog
{
public:
    static constexpr qint64 kDefaultMaxBytes = 1024 * 1024;

    // <app local data>/keyhole.log
    static QString defaultPath();
    // Chains to the message handler installed before (util::installLogFormat); call once, after it.
    static bool install(const QString &path, qint64 maxBytes = kDefaultMaxBytes, QString *error = nullptr);
    // Stops writing to the file (tests; the app keeps it until exit).
    static void uninstall();
    // The file being written, empty before install().
    static QString path();
};

} // namespace keyhole::tray
