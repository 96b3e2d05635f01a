#pragma once

#include "bus/ProxyMetrics.h"
#include "tunnels/TunnelOptions.h"

#include <QUrl>

#include <optional>

namespace keyhole::util {
class Clock;
}
namespace keyhole::crypto {
class RegistrationVerifier;
}

namespace keyhole::proxy {

class AuthorizedKeys;
class MessageBus;
class TunnelRegistry;

// What every tunnel session of an instance shares. Owned by ProxyServer; outlives the sessions.
struct TunnelContext {
    TunnelOptions options;
    QUrl publicUrl;
    crypto::RegistrationVerifier *verifier = nullptr;
    const AuthorizedKeys *authorizedKeys = nullptr; // null: registration is open
    TunnelRegistry *registry = nullptr;
    MessageBus *bus = nullptr;
    const util::Clock *clock = nullptr;
    ProxyMetrics *metrics = &ProxyMetrics::unused();
};

} // namespace keyhole::proxy
