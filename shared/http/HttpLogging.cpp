#include "http/HttpLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcHttp, "keyhole.http", QtInfoMsg)
