#include "ClientLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcClient, "keyhole.client", QtInfoMsg)
Q_LOGGING_CATEGORY(lcForwarder, "keyhole.client.forwarder", QtInfoMsg)
