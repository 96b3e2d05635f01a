#include "bus/redis/RedisUrl.h"

#include <QHostAddress>
#include <QUrl>

namespace keyhole::proxy {

namespace {
std::optional<RedisUrl> refuse(QString *error, const QString &message)
{
    if (error)
        *error = message;
    return std::nullopt;
}
} // namespace

std::optional<RedisUrl> RedisUrl::parse(const QString &text, QString *error)
{
    const QUrl url(text.trimmed(), QUrl::StrictMode);
    if (text.trimmed().isEmpty() || !url.isValid())
        return refuse(error,
                      QStringLiteral("'%1' is not a URL; expected redis://[:password@]host:port[/db]").arg(text));
    if (url.scheme() == QLatin1String("rediss"))
        return refuse(error,
                      QStringLiteral("rediss:// (Redis over TLS) is not supported by this build (hiredis 0.14 "
                                     "has no TLS); use a TLS tunnel such as stunnel and redis:// to it"));
    if (url.scheme() != QLatin1String("redis"))
        return refuse(error, QStringLiteral("'%1': the scheme must be redis://").arg(text));
    if (url.host().isEmpty())
        return refuse(error, QStringLiteral("'%1' names no host").arg(text));
    if (url.hasQuery() || url.hasFragment())
        return refuse(error, QStringLiteral("'%1': query and fragment are not supported").arg(text));

    RedisUrl result;
    result.host = url.host();
    const int port = url.port(6379);
    if (port <= 0 || port > 65535)
        return refuse(error, QStringLiteral("'%1': bad port").arg(text));
    result.port = quint16(port);
    // redis://:secret@host and redis://user:secret@host both give the password; ACL users need
    // AUTH user pass, which we send when a user name is present.
    result.user = url.userName(QUrl::FullyDecoded).toUtf8();
    result.password = url.password(QUrl::FullyDecoded).toUtf8();
    if (!url.userName().isEmpty() && result.password.isEmpty())
        return refuse(error,
                      QStringLiteral("'%1': a user name needs a password (redis://user:password@host)").arg(text));

    QString path = url.path();
    if (path.startsWith(u'/'))
        path.remove(0, 1);
    if (!path.isEmpty()) {
        bool ok = false;
        const int db = path.toInt(&ok);
        if (!ok || db < 0 || db > 1000000)
            return refuse(error, QStringLiteral("'%1': the path must be a database number such as /0").arg(text));
        result.db = db;
    }
    return result;
}

QString RedisUrl::redacted() const
{
    const bool v6 = QHostAddress(host).protocol() == QAbstractSocket::IPv6Protocol;
    return QStringLiteral("redis://%1%2:%3/%4")
        .arg(password.isEmpty() ? QString() : QStringLiteral(":***@"), v6 ? u'[' + host + u']' : host)
        .arg(port)
        .arg(db);
}

} // namespace keyhole::proxy
