#pragma once

#include <QLoggingCategory>

// Every part declares its own categories (e.g. http/HttpLogging.h); enable detail with
// QT_LOGGING_RULES="keyhole.*.debug=true".

namespace keyhole::util {

enum class LogFormat { Text, Json };

// Installs a message handler that writes one line per message to stderr: text
// ("2026-01-01T00:00:00.000Z info keyhole.proxy: ...") or one JSON object per line
// ({"ts":..,"level":..,"category":..,"msg":..}). Safe to call once at startup.
void installLogFormat(LogFormat format);

// One info line of `category`, already formatted (UTF-8): for lines written per request, such as the
// proxy's access log, where building them through QDebug and QString was a tenth of the proxy's profile
// at 1 KiB requests. Nothing when the category's info level is off.
void logInfoLine(const QLoggingCategory &category, const QByteArray &text);

enum class LogLevel { Debug, Info, Warning };

// What keyhole.* categories log from `level` up (Warning: no access log). QT_LOGGING_RULES still
// wins where it is set. May be called again (a reload).
void installLogLevel(LogLevel level);
// "debug", "info", "warning"; false for anything else.
bool parseLogLevel(const QString &text, LogLevel *level);

// "debug", "info", "warning", "critical" or "fatal", as log lines name a message's type.
const char *messageTypeName(QtMsgType type);

} // namespace keyhole::util
