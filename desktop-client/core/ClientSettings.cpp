#include "ClientSettings.h"

#include "crypto/Label.h"
#include "protocol/Addressing.h"
#include "crypto/RegistrationVerifier.h"

#include <QDir>
#include <QFileInfo>
#include <QStandardPaths>

namespace keyhole::client {

namespace {

bool isHttpScheme(const QString &scheme)
{
    return scheme == QLatin1String("http") || scheme == QLatin1String("https");
}

// ws:// and wss:// are accepted for the proxy too and mean the same host.
QString httpSchemeFor(const QString &scheme)
{
    if (scheme == QLatin1String("ws"))
        return QStringLiteral("http");
    if (scheme == QLatin1String("wss"))
        return QStringLiteral("https");
    return scheme;
}

int defaultPort(const QString &httpScheme)
{
    return httpScheme == QLatin1String("https") ? 443 : 80;
}

} // namespace

QString ClientSettings::validate() const
{
    const QString proxyScheme = httpSchemeFor(proxyUrl.scheme().toLower());
    if (!proxyUrl.isValid() || proxyUrl.host().isEmpty() || !isHttpScheme(proxyScheme))
        return QStringLiteral("the proxy URL \"%1\" is not an http:// or https:// URL with a host")
            .arg(proxyUrl.toString());
    if (proxyUrl.hasQuery() || proxyUrl.hasFragment())
        return QStringLiteral("the proxy URL \"%1\" must not have a query or fragment").arg(proxyUrl.toString());
    if (target.isEmpty())
        return QStringLiteral("no local service given (use --port or --target)");
    if (!target.isValid() || target.host().isEmpty() || !isHttpScheme(target.scheme().toLower()))
        return QStringLiteral("the target \"%1\" is not an http:// or https:// URL with a host").arg(target.toString());
    if (!target.path().isEmpty() && target.path() != QLatin1String("/"))
        return QStringLiteral("the target \"%1\" must not have a path; requests keep the visitor's path")
            .arg(target.toString());
    if (target.port() == 0)
        return QStringLiteral("the target port must be between 1 and 65535");
    if (keyPath.isEmpty())
        return QStringLiteral("no key file given");
    if (!name.isEmpty() && !crypto::isValidTunnelName(name))
        return QStringLiteral("the tunnel name \"%1\" must be 1 to 63 characters of a-z, 0-9 and '-', "
                              "not starting or ending with '-'")
            .arg(name);
    if (!caFile.isEmpty()) {
        const QFileInfo info(caFile);
        if (!info.isFile() || !info.isReadable())
            return QStringLiteral("the CA file \"%1\" cannot be read").arg(caFile);
    }
    if (hostHeader.contains(QLatin1Char('\r')) || hostHeader.contains(QLatin1Char('\n'))
        || hostHeader.trimmed() != hostHeader)
        return QStringLiteral("the Host header value \"%1\" is not valid").arg(hostHeader);
    if (maxConcurrentLocal < 1 || maxConcurrentLocal > 1024)
        return QStringLiteral("the number of concurrent local connections must be between 1 and 1024");
    return {};
}

QString ClientSettings::normalizeAudience(const QUrl &proxyUrl)
{
    const QString scheme = httpSchemeFor(proxyUrl.scheme().toLower());
    // The proxy compares with the same function, so both sides agree on every detail.
    QUrl httpUrl = proxyUrl;
    httpUrl.setScheme(scheme);
    httpUrl.setUserInfo(QString());
    httpUrl.setQuery(QString());
    httpUrl.setFragment(QString());
    const QString shared = crypto::RegistrationVerifier::normalizeAudience(httpUrl.toString(QUrl::FullyEncoded));
    if (!shared.isEmpty())
        return shared;

    QString host = proxyUrl.host(QUrl::FullyEncoded).toLower();
    if (host.contains(QLatin1Char(':'))) // IPv6 literal
        host = QLatin1Char('[') + host + QLatin1Char(']');
    QString out = scheme + QLatin1String("://") + host;
    const int port = proxyUrl.port();
    if (port > 0 && port != defaultPort(scheme))
        out += QLatin1Char(':') + QString::number(port);
    QString path = proxyUrl.path(QUrl::FullyEncoded);
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    return out + path;
}

QString ClientSettings::audience() const
{
    return normalizeAudience(proxyUrl);
}

QUrl ClientSettings::subscribeUrl() const
{
    QUrl url = proxyUrl;
    const QString scheme = httpSchemeFor(url.scheme().toLower());
    url.setScheme(scheme == QLatin1String("https") ? QStringLiteral("wss") : QStringLiteral("ws"));
    QString path = url.path();
    while (path.endsWith(QLatin1Char('/')))
        path.chop(1);
    url.setPath(path + QLatin1String(protocol::kControlPath));
    url.setQuery(QString());
    url.setFragment(QString());
    url.setUserInfo(QString());
    return url;
}

QString ClientSettings::targetAuthority() const
{
    return protocol::hostAndPort(target);
}

QString ClientSettings::defaultKeyPath()
{
    // Name the folder "keyhole" whatever the embedding application is called.
    QString base = QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation);
    if (base.isEmpty())
        base = QDir::homePath() + QLatin1String("/.config");
    return base + QLatin1String("/keyhole/key.pem");
}

bool ClientSettings::operator==(const ClientSettings &other) const
{
    return proxyUrl == other.proxyUrl && target == other.target && keyPath == other.keyPath && name == other.name
        && caFile == other.caFile && hostHeader == other.hostHeader && maxConcurrentLocal == other.maxConcurrentLocal;
}

} // namespace keyhole::client
