#pragma once

#include <QUrl>

namespace keyhole::tray {

// The one way the app opens a URL outside itself. The URLs it opens come from the proxy (the public
// URL of the tunnel), which is a peer like any other: only http and https with a host are handed to
// the desktop, never file:, a custom scheme registered by some application, or a script URL.
class BrowserLink
{
public:
    static bool isOpenable(const QUrl &url);
    // False (and nothing opened) for a URL that is not openable or that the desktop refused.
    static bool open(const QUrl &url);
};

} // namespace keyhole::tray
