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

} // namespace keyhole::util
