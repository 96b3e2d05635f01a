#include "ProxyConfig.h"

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
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4); // unwraps ::ffff:a.b.c.d
    const QHostAddress plain = isV4 ? QHostAddress(v4) : address;
    for (const auto &subnet : trustedProxies) {
        if (plain.isInSubnet(subnet))
            return true;
    }
    return false;
}

} // namespace keyhole::proxy
