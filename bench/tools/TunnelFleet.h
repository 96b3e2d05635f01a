#pragma once

#include "crypto/KeyPair.h"

#include <QElapsedTimer>
#include <QObject>
#include <QUrl>

#include <vector>

class QWebSocket;

// Many registered, idle tunnels from one process, for measuring what an idle tunnel costs the
// proxy. Speaks the real protocol (RegistrationRequest, Ping/Pong) over QWebSocket, opening at
// most `concurrency` registrations at a time so the proxy's accept queue is not the bottleneck.
// Tokens are signed before start(), so that the measured window holds the proxy's work.
class TunnelFleet : public QObject
{
    Q_OBJECT

public:
    TunnelFleet(QUrl proxyUrl, std::vector<keyhole::crypto::KeyPair> keys, int concurrency, QObject *parent = nullptr);

    void start();

    int registered() const { return m_registered; }
    int refused() const { return m_refused; }
    int dropped() const { return m_dropped; }

Q_SIGNALS:
    // Every tunnel has either registered or failed.
    void settled();

private:
    void openNext();
    void onFrame(QWebSocket *socket, const QByteArray &frame);
    void onSettledOne();

    QUrl m_proxyUrl;     // the audience: the proxy's public URL
    QUrl m_subscribeUrl; // ws://127.0.0.1:<port>/proxy/subscribe
    static constexpr qint64 kTokenFreshSecs = 30;
    std::vector<keyhole::crypto::KeyPair> m_keys;
    std::vector<QByteArray> m_tokens; // one signed registration token per key, signed at m_signedAtSecs
    qint64 m_signedAtSecs = 0;
    int m_concurrency;
    size_t m_next = 0;
    int m_inFlight = 0;
    int m_registered = 0;
    int m_refused = 0;
    int m_dropped = 0;
    bool m_settled = false;
};
