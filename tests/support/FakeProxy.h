#pragma once

#include "protocol/Messages.h"

#include <QList>
#include <QObject>
#include <QPointer>
#include <QStringList>
#include <QUrl>
#include <QWebSocket>
#include <QWebSocketServer>

#include <functional>

// Stands in for keyhole-proxy towards a tunnel client (TunnelClient in process, or keyhole-cli): accepts
// control connections on 127.0.0.1 (port 0) and records every decoded message. A test answers
// through send()/accept(), or hands over a script that answers every RegistrationRequest.
class FakeProxy : public QObject
{
    Q_OBJECT

public:
    // The answer to the n-th RegistrationRequest (0-based); a refusal also closes that connection.
    using RegistrationScript = std::function<keyhole::protocol::RegistrationResponse(int attempt)>;

    explicit FakeProxy(RegistrationScript script = {}, QObject *parent = nullptr);

    QUrl url() const { return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(m_server.serverPort())); }

    // To the connection that came last.
    void send(const keyhole::protocol::Message &message);
    void sendRaw(const QByteArray &frame);
    // Accepts the registration, with limits of 1000 bytes and a 30 s request timeout.
    void accept();

    template <typename T> QList<T> all() const
    {
        QList<T> out;
        for (const auto &message : received) {
            if (const auto *m = std::get_if<T>(&message))
                out.append(*m);
        }
        return out;
    }

    int connections = 0;
    int disconnects = 0;
    int registrations = 0; // answered by the script (or by rawRegistrationReply)
    // When set, sent instead of the script's answer (e.g. a frame of another version), then the
    // connection closes.
    QByteArray rawRegistrationReply;
    QStringList paths;
    QPointer<QWebSocket> current;
    QList<keyhole::protocol::Message> received;

private:
    void onFrame(QWebSocket *socket, const QByteArray &frame);

    RegistrationScript m_script;
    QWebSocketServer m_server;
};
