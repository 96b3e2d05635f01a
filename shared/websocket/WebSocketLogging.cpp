#include "websocket/WebSocketLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcWebSocket, "keyhole.websocket", QtInfoMsg)
