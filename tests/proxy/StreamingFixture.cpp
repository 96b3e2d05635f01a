#include "StreamingFixture.h"

#include "crypto/Label.h"

#include <QTest>

using namespace keyhole;

proxy::ProxyConfig StreamingFixture::baseConfig()
{
    proxy::ProxyConfig config;
    config.listenAddress = QHostAddress::LocalHost;
    config.listenPort = 0;
    return config;
}

std::unique_ptr<FakeTunnelClient> StreamingFixture::start(const proxy::ProxyConfig &config)
{
    server = std::make_unique<proxy::ProxyServer>(config);
    QString error;
    if (!server->start(&error)) {
        qWarning() << error;
        return nullptr;
    }
    auto client = std::make_unique<FakeTunnelClient>(*crypto::KeyPair::generate(), server->publicUrl());
    client->connectAndRegister();
    if (!QTest::qWaitFor([&] { return !client->receivedOf<protocol::RegistrationResponse>().isEmpty(); }, 5000))
        return nullptr;
    return client;
}

QByteArray StreamingFixture::hostFor(const FakeTunnelClient &client) const
{
    return (crypto::labelForKey(client.key()) + QStringLiteral(".localhost:") + QString::number(server->port()))
        .toLatin1();
}

std::optional<protocol::HttpRequest> StreamingFixture::firstRequest(FakeTunnelClient &client)
{
    if (!QTest::qWaitFor([&] { return !client.receivedOf<protocol::HttpRequest>().isEmpty(); }, 5000))
        return std::nullopt;
    return client.receivedOf<protocol::HttpRequest>().first();
}

protocol::HttpResponse StreamingFixture::streamedHead(const QByteArray &id, protocol::HeaderList headers)
{
    protocol::HttpResponse response;
    response.id = id;
    response.status = 200;
    response.headers = std::move(headers);
    response.streamed = true;
    return response;
}

bool StreamingFixture::cancelledFor(const FakeTunnelClient &client, const QByteArray &id)
{
    for (const auto &cancel : client.receivedOf<protocol::HttpCancel>()) {
        if (cancel.id == id)
            return true;
    }
    return false;
}

QByteArray StreamingFixture::requestBodySoFar(const FakeTunnelClient &client, bool *ended)
{
    QByteArray body;
    for (const auto &request : client.receivedOf<protocol::HttpRequest>())
        body += request.body;
    for (const auto &piece : client.receivedOf<protocol::HttpBody>()) {
        body += piece.data;
        if (ended && piece.end)
            *ended = true;
    }
    return body;
}

QByteArray StreamingFixture::readAvailable(RawVisitor &visitor, QByteArray *into)
{
    *into += visitor.socket.readAll();
    return *into;
}
