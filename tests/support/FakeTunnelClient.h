#pragma once

#include "crypto/KeyPair.h"
#include "protocol/Messages.h"

#include <QList>
#include <QObject>
#include <QUrl>
#include <QWebSocket>

#include <functional>

// A scripted tunnel client for in-process proxy tests: speaks the real protocol over a real
// QWebSocket, records what the proxy sends, and answers HttpRequests with `answerer` if set.
class FakeTunnelClient : public QObject
{
    Q_OBJECT

public:
    FakeTunnelClient(keyhole::crypto::KeyPair key, QUrl proxyUrl, QObject *parent = nullptr);

    void connectAndRegister(const QString &name = {}, const QByteArray &tokenOverride = {});
    void connectOnly();
    void send(const keyhole::protocol::Message &message);
    void sendRaw(const QByteArray &frame);
    // From now on, accepts every WebSocket upgrade (without a subprotocol) the proxy forwards.
    void acceptWebSockets();

    QWebSocket &socket() { return m_socket; }
    const keyhole::crypto::KeyPair &key() const { return m_key; }
    QList<keyhole::protocol::Message> received;
    std::function<void(const keyhole::protocol::HttpRequest &)> answerer;

    template <typename T> QList<T> receivedOf() const
    {
        QList<T> out;
        for (const auto &message : received)
            if (const T *m = std::get_if<T>(&message))
                out.append(*m);
        return out;
    }

Q_SIGNALS:
    void messageReceived();

private:
    keyhole::crypto::KeyPair m_key;
    QUrl m_proxyUrl;
    QWebSocket m_socket;
    QString m_name;
    QByteArray m_token;
};
