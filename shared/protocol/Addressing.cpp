#include "protocol/Addressing.h"

#include "protocol/Overloaded.h"

#include <QUrl>

namespace keyhole::protocol {

QString tunnelHostName(const QString &label, const QString &domain)
{
    return label + u'.' + domain;
}

QString hostAndPort(const QUrl &url)
{
    const QString scheme = url.scheme().toLower();
    const bool secure = scheme == QLatin1String("https") || scheme == QLatin1String("wss");
    const QString host = url.host().contains(u':') ? u'[' + url.host() + u']' : url.host();
    return host + u':' + QString::number(url.port(secure ? 443 : 80));
}

QByteArray exchangeIdOf(const Message &message)
{
    return std::visit(Overloaded{
                          [](const HttpRequest &m) { return m.id; },
                          [](const HttpResponse &m) { return m.id; },
                          [](const WsRequest &m) { return m.id; },
                          [](const WsResponse &m) { return m.id; },
                          [](const WsMessage &m) { return m.id; },
                          [](const WsTeardown &m) { return m.id; },
                          [](const HttpBody &m) { return m.id; },
                          [](const HttpCredit &m) { return m.id; },
                          [](const HttpCancel &m) { return m.id; },
                          [](const RegistrationRequest &) { return QByteArray(); },
                          [](const RegistrationResponse &) { return QByteArray(); },
                          [](const Ping &) { return QByteArray(); },
                          [](const Pong &) { return QByteArray(); },
                          [](const Goodbye &) { return QByteArray(); },
                      },
                      message);
}

} // namespace keyhole::protocol
