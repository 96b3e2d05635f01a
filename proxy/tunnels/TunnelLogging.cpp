#include "tunnels/TunnelLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcProxyTunnel, "keyhole.proxy.tunnel", QtInfoMsg)
