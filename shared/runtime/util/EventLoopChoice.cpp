#include "util/EventLoopChoice.h"

#include <QByteArray>
#include <QtGlobal>

namespace keyhole::util {

void preferPlainEventLoop()
{
    if (!qEnvironmentVariableIsSet("QT_NO_GLIB"))
        qputenv("QT_NO_GLIB", QByteArrayLiteral("1"));
}

} // namespace keyhole::util
