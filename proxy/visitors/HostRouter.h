#pragma once

#include <QByteArray>
#include <QString>

namespace keyhole::proxy {

// Decides what a visitor's request is for, from its Host header and path alone.
// Pure and cheap: it runs once per request. With `pathRouting` off, /proxy/request/<label>/... on
// the proxy's own host is just a path of the proxy (404), so each tunnel is only its own origin.
class HostRouter
{
public:
    explicit HostRouter(QString domain, bool pathRouting = true);

    enum class Kind {
        ProxySelf,   // the proxy's own host: control channel, /healthz
        Tunnel,      // <label>.<domain> or /proxy/request/<label>/...
        UnknownHost, // under our domain but not a tunnel label (a.b.domain, bad characters)
    };

    struct Route {
        Kind kind = Kind::ProxySelf;
        QString label;           // for Tunnel
        QByteArray path;         // the path the tunnel sees ("/rest" for path routing)
        QString hostName;        // the host without port, lowercase, for messages
        bool pathRouted = false; // a Tunnel reached by /proxy/request/<label>/: the Host was not the tunnel's
    };

    Route route(const QByteArray &hostHeader, const QByteArray &path) const;

private:
    QString m_domain;
    QString m_dottedDomain;
    bool m_pathRouting;
};

} // namespace keyhole::proxy
