#include "visitors/VisitorLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcProxyHttp, "keyhole.proxy.http", QtInfoMsg)
