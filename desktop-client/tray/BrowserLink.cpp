#include "BrowserLink.h"

#include <QDesktopServices>

namespace keyhole::tray {

bool BrowserLink::isOpenable(const QUrl &url)
{
    if (!url.isValid() || url.host().isEmpty())
        return false;
    const QString scheme = url.scheme().toLower();
    return scheme == QLatin1String("http") || scheme == QLatin1String("https");
}

bool BrowserLink::open(const QUrl &url)
{
    if (!isOpenable(url))
        return false;
    return QDesktopServices::openUrl(url);
}

} // namespace keyhole::tray
