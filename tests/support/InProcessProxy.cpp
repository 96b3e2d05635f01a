#include "InProcessProxy.h"

#include "crypto/KeyPair.h"
#include "crypto/Label.h"

#include <QTest>

using namespace keyhole;

proxy::ProxyConfig InProcessProxy::baseConfig()
{
    proxy::ProxyConfig config;
    config.listenAddress = QHostAddress::LocalHost;
    config.listenPort = 0;
    return config;
}

bool InProcessProxy::start(const proxy::ProxyConfig &config, const util::Clock *clock)
{
    m_server.reset(); // the old one gives its port and tunnels up before the new one starts
    m_server = std::make_unique<proxy::ProxyServer>(config, nullptr, clock);
    QString error;
    if (!m_server->start(&error)) {
        qWarning() << "the proxy did not start:" << error;
        return false;
    }
    return true;
}

std::unique_ptr<FakeTunnelClient> InProcessProxy::onlineClient(const QString &name) const
{
    auto client = std::make_unique<FakeTunnelClient>(*crypto::KeyPair::generate(), m_server->publicUrl());
    client->connectAndRegister(name);
    if (!QTest::qWaitFor([&] { return !client->receivedOf<protocol::RegistrationResponse>().isEmpty(); }, 5000))
        return nullptr;
    return client;
}

std::unique_ptr<FakeTunnelClient> InProcessProxy::startWithClient(const proxy::ProxyConfig &config)
{
    if (!start(config))
        return nullptr;
    return onlineClient();
}

QByteArray InProcessProxy::hostFor(const crypto::KeyPair &key, const QString &name) const
{
    return (crypto::labelForKey(key, name) + QStringLiteral(".localhost:") + QString::number(m_server->port()))
        .toLatin1();
}

QByteArray InProcessProxy::hostFor(const FakeTunnelClient &client, const QString &name) const
{
    return hostFor(client.key(), name);
}

QUrl InProcessProxy::wsUrl(const crypto::KeyPair &key, const char *rest) const
{
    return QUrl(QStringLiteral("ws://127.0.0.1:%1/proxy/request/%2%3")
                    .arg(m_server->port())
                    .arg(crypto::labelForKey(key), QLatin1String(rest)));
}
