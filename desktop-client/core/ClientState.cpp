#include "ClientState.h"

namespace keyhole::client {

const char *clientStateName(ClientState state)
{
    switch (state) {
    case ClientState::Offline:
        return "offline";
    case ClientState::Connecting:
        return "connecting";
    case ClientState::Registering:
        return "registering";
    case ClientState::Online:
        return "online";
    case ClientState::WaitingToReconnect:
        return "waiting-to-reconnect";
    case ClientState::Refused:
        return "refused";
    case ClientState::Replaced:
        return "replaced";
    }
    return "unknown";
}

} // namespace keyhole::client
