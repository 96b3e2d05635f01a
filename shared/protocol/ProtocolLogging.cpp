#include "protocol/ProtocolLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcProtocol, "keyhole.protocol", QtInfoMsg)
