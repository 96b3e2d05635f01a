#include "bus/BusLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcBus, "keyhole.proxy.bus", QtInfoMsg)
