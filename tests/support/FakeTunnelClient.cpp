#include "FakeTunnelClient.h"

#include "crypto/RegistrationToken.h"
#include "protocol/Codec.h"
#include "util/Clock.h"

using namespace keyhole;

FakeTunnelClient::FakeTunnelClient(crypto::KeyPair key, QUrl proxyUrl, QObject *parent)
    : QObject(parent)
    , m_key(std::move(key))
    , m_proxyUrl(std::move(proxyUrl))
{
    connect(&m_socket, &QWebSocket::binaryMessageReceived, this, [this](const QByteArray &frame) {
        auto decoded = protocol::Codec::decode(frame);
        if (!decoded)
            qFatal("proxy sent a malformed frame: %s", qPrintable(decoded.error));
        received.append(*decoded.message);
        if (const auto *request = std::get_if<protocol::HttpRequest>(&*decoded.message); request && answerer)
            answerer(*request);
        Q_EMIT messageReceived();
    });
    connect(&m_socket, &QWebSocket::connected, this, [this] {
        if (!m_token.isNull())
            send(protocol::RegistrationRequest{m_token});
    });
}

void FakeTunnelClient::connectAndRegister(const QString &name, const QByteArray &tokenOverride)
{
    m_token = tokenOverride.isNull()
        ? crypto::RegistrationToken::create(m_key, m_proxyUrl.toString(), name, util::Clock::system()->epochSecs())
        : tokenOverride;
    connectOnly();
}

void FakeTunnelClient::connectOnly()
{
    QUrl url = m_proxyUrl;
    url.setScheme(QStringLiteral("ws"));
    url.setHost(QStringLiteral("127.0.0.1"));
    url.setPath(QStringLiteral("/proxy/subscribe"));
    m_socket.open(url);
}

void FakeTunnelClient::send(const protocol::Message &message)
{
    m_socket.sendBinaryMessage(protocol::Codec::encode(message));
}

void FakeTunnelClient::sendRaw(const QByteArray &frame)
{
    m_socket.sendBinaryMessage(frame);
}

void FakeTunnelClient::acceptWebSockets()
{
    connect(this, &FakeTunnelClient::messageReceived, this, [this] {
        if (const auto *upgrade = std::get_if<protocol::WsRequest>(&received.last()))
            send(protocol::WsResponse{upgrade->id, true, {}, 0, {}, {}});
    });
}
