#include "TunnelFleet.h"

#include "crypto/RegistrationToken.h"
#include "protocol/Addressing.h"
#include "protocol/Codec.h"
#include "util/Clock.h"

#include <QWebSocket>

#include <cstdio>

using namespace keyhole;

TunnelFleet::TunnelFleet(QUrl proxyUrl, std::vector<crypto::KeyPair> keys, int concurrency, QObject *parent)
    : QObject(parent)
    , m_proxyUrl(std::move(proxyUrl))
    , m_keys(std::move(keys))
    , m_concurrency(std::max(1, concurrency))
{
    m_subscribeUrl = m_proxyUrl;
    m_subscribeUrl.setScheme(m_proxyUrl.scheme() == QLatin1String("https") ? QStringLiteral("wss")
                                                                           : QStringLiteral("ws"));
    m_subscribeUrl.setHost(QStringLiteral("127.0.0.1"));
    m_subscribeUrl.setPath(QLatin1String(protocol::kControlPath));
}

void TunnelFleet::start()
{
    if (m_keys.empty()) {
        m_settled = true;
        Q_EMIT settled();
        return;
    }
    while (m_inFlight < m_concurrency && m_next < m_keys.size())
        openNext();
}

void TunnelFleet::openNext()
{
    const crypto::KeyPair &key = m_keys[m_next++];
    ++m_inFlight;
    auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    auto *pending = new bool(true); // registration outcome not known yet
    connect(socket, &QObject::destroyed, this, [pending] { delete pending; });
    const QByteArray token = crypto::RegistrationToken::create(key, m_proxyUrl.toString(), QString(),
                                                               util::Clock::system()->epochSecs());
    connect(socket, &QWebSocket::connected, socket, [socket, token] {
        socket->sendBinaryMessage(protocol::Codec::encode(protocol::RegistrationRequest{token}));
    });
    connect(socket, &QWebSocket::binaryMessageReceived, socket, [this, socket, pending](const QByteArray &frame) {
        auto decoded = protocol::Codec::decode(frame);
        if (!decoded)
            return;
        if (const auto *response = std::get_if<protocol::RegistrationResponse>(&*decoded.message)) {
            if (!*pending)
                return;
            *pending = false;
            if (response->accepted) {
                ++m_registered;
            } else {
                if (m_refused++ < 5)
                    std::fprintf(stderr, "registration refused: %s\n", qPrintable(response->reason));
                socket->close();
            }
            onSettledOne();
        } else if (const auto *ping = std::get_if<protocol::Ping>(&*decoded.message)) {
            socket->sendBinaryMessage(protocol::Codec::encode(protocol::Pong{ping->nonce}));
        }
    });
    connect(socket, &QWebSocket::disconnected, this, [this, socket, pending] {
        if (*pending) {
            *pending = false;
            if (m_refused++ < 5)
                std::fprintf(stderr, "connection failed: %s\n", qPrintable(socket->errorString()));
            onSettledOne();
        } else if (m_settled) {
            ++m_dropped;
        }
        socket->deleteLater();
    });
    socket->open(m_subscribeUrl);
}

void TunnelFleet::onSettledOne()
{
    --m_inFlight;
    if (m_next < m_keys.size()) {
        openNext();
        return;
    }
    if (m_inFlight == 0 && !m_settled) {
        m_settled = true;
        Q_EMIT settled();
    }
}
