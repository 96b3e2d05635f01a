#include "crypto/CryptoLogging.h"

// Info and above by default; debug needs QT_LOGGING_RULES.
Q_LOGGING_CATEGORY(lcCrypto, "keyhole.crypto", QtInfoMsg)
