#pragma once

#include "ProxyConfig.h"

#include <QStringList>

#include <optional>

namespace keyhole::proxy {

// keyhole-proxy's flags → ProxyConfig. Prints --help/--version itself (exitCode 0); a bad value
// gives an error naming the flag (exitCode 2).
struct ParsedCommandLine {
    std::optional<ProxyConfig> config;
    QString error;
    int exitCode = 0;
};

ParsedCommandLine parseProxyCommandLine(const QStringList &arguments);

} // namespace keyhole::proxy
