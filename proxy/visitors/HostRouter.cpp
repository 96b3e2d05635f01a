#include "visitors/HostRouter.h"

#include "crypto/Label.h"

namespace keyhole::proxy {

namespace {
const QByteArray kPathPrefix = QByteArrayLiteral("/proxy/request/");

QString hostWithoutPort(const QByteArray &hostHeader)
{
    QByteArray host = hostHeader.trimmed().toLower();
    if (host.startsWith('[')) { // IPv6 literal: never a tunnel
        const qsizetype end = host.indexOf(']');
        return QString::fromLatin1(end < 0 ? host : host.left(end + 1));
    }
    const qsizetype colon = host.lastIndexOf(':');
    if (colon >= 0)
        host.truncate(colon);
    if (host.endsWith('.')) // "label.example.com." is the same name
        host.chop(1);
    return QString::fromLatin1(host);
}
} // namespace

HostRouter::HostRouter(QString domain, bool pathRouting)
    : m_domain(domain.toLower())
    , m_dottedDomain(QLatin1Char('.') + m_domain)
    , m_pathRouting(pathRouting)
{
}

HostRouter::Route HostRouter::route(const QByteArray &hostHeader, const QByteArray &path) const
{
    Route route;
    route.hostName = hostWithoutPort(hostHeader);
    route.path = path;

    if (route.hostName.endsWith(m_dottedDomain)) {
        const QString label = route.hostName.left(route.hostName.size() - m_dottedDomain.size());
        route.label = label;
        route.kind = crypto::isValidLabel(label) ? Kind::Tunnel : Kind::UnknownHost;
        return route;
    }

    // The proxy's own host (the domain itself, an IP address, any other name): path routing.
    if (m_pathRouting && path.startsWith(kPathPrefix)) {
        const QByteArray rest = path.mid(kPathPrefix.size());
        const qsizetype slash = rest.indexOf('/');
        const QString label = QString::fromLatin1(slash < 0 ? rest : rest.left(slash)).toLower();
        route.label = label;
        route.path = slash < 0 ? QByteArrayLiteral("/") : rest.mid(slash);
        route.kind = crypto::isValidLabel(label) ? Kind::Tunnel : Kind::UnknownHost;
        route.pathRouted = true;
        return route;
    }
    route.kind = Kind::ProxySelf;
    return route;
}

} // namespace keyhole::proxy
