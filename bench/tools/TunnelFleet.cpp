#include "TunnelFleet.h"

#include "crypto/RegistrationToken.h"
#include "protocol/Addressing.h"
#include "protocol/Codec.h"
#include "util/Clock.h"

#include <QWebSocket>

#include <cstdio>
#include <utility>

using namespace keyhole;

TunnelFleet::TunnelFleet(QUrl proxyUrl, std::vector<crypto::KeyPair> keys, int concurrency, QObject *parent)
    : QObject(parent)
    , m_proxyUrl(std::move(proxyUrl))
    , m_keys(std::move(keys))
    , m_concurrency(std::max(1, concurrency))
{
    // In the field each client signs its own token on its own machine: signing them all here, before
    // the clock starts, keeps the tool's share of this machine's two cores out of the proxy's time.
    m_tokens.reserve(m_keys.size());
    m_signedAtSecs = util::Clock::system()->epochSecs();
    for (const crypto::KeyPair &key : m_keys)
        m_tokens.push_back(crypto::RegistrationToken::create(key, m_proxyUrl.toString(), QString(), m_signedAtSecs));
    m_subscribeUrl = m_proxyUrl;
    m_subscribeUrl.setScheme(m_proxyUrl.scheme() == QLatin1String("https") ? QStringLiteral("wss")
                                                                           : QStringLiteral("ws"));
    m_subscribeUrl.setHost(QStringLiteral("127.0.0.1"));
    m_subscribeUrl.setPath(QLatin1String(protocol::kControlPath));
}

void TunnelFleet::start()
{
    if (m_tokens.empty()) {
        m_settled = true;
        Q_EMIT settled();
        return;
    }
    while (m_inFlight < m_concurrency && m_next < m_tokens.size())
        openNext();
}

void TunnelFleet::openNext()
{
    const size_t index = m_next++;
    // A token lives 60 s: one signed up front but still unused after half of that (a slow proxy, a
    // large count) is signed again rather than refused as expired.
    const qint64 now = util::Clock::system()->epochSecs();
    const QByteArray token = now - m_signedAtSecs <= kTokenFreshSecs
        ? std::exchange(m_tokens[index], QByteArray())
        : crypto::RegistrationToken::create(m_keys[index], m_proxyUrl.toString(), QString(), now);
    ++m_inFlight;
    auto *socket = new QWebSocket(QString(), QWebSocketProtocol::VersionLatest, this);
    auto *pending = new bool(true); // registration outcome not known yet
    connect(socket, &QObject::destroyed, this, [pending] { delete pending; });
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
    if (m_next < m_tokens.size()) {
        openNext();
        return;
    }
    if (m_inFlight == 0 && !m_settled) {
        m_settled = true;
        Q_EMIT settled();
    }
}
