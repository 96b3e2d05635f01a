#include "ProxyConfig.h"

#include "visitors/VisitorOptions.h"

namespace keyhole::proxy {

QUrl ProxyConfig::effectivePublicUrl(quint16 boundPort) const
{
    if (!publicUrl.isEmpty())
        return publicUrl;
    QUrl url;
    url.setScheme(tlsEnabled() ? QStringLiteral("https") : QStringLiteral("http"));
    url.setHost(domain);
    const int defaultPort = tlsEnabled() ? 443 : 80;
    if (boundPort != defaultPort)
        url.setPort(boundPort);
    return url;
}

bool ProxyConfig::isTrustedProxy(const QHostAddress &address) const
{
    return isInAnySubnet(address, trustedProxies);
}

} // namespace keyhole::proxy
