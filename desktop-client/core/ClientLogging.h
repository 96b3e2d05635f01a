#pragma once

#include <QLoggingCategory>

// This part's categories; the log format and filters are set up in util/Logging.h.
Q_DECLARE_LOGGING_CATEGORY(lcClient)    // keyhole.client
Q_DECLARE_LOGGING_CATEGORY(lcForwarder) // keyhole.client.forwarder
