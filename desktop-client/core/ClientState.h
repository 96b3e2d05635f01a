#pragma once

#include <QMetaType>

namespace keyhole::client {

// The life cycle of a tunnel as the user sees it (CLI output, tray icon).
enum class ClientState {
    Offline,            // not started, or stopped
    Connecting,         // opening the WebSocket to the proxy
    Registering,        // connected, waiting for the RegistrationResponse
    Online,             // registered; requests flow
    WaitingToReconnect, // lost the proxy; the backoff timer runs
    Refused,            // the proxy refused the registration; no retry without user action
    Replaced,           // another client with the same key took over; no retry without user action
};

// "online", "waiting-to-reconnect", ...
const char *clientStateName(ClientState state);

} // namespace keyhole::client

Q_DECLARE_METATYPE(keyhole::client::ClientState)
