#pragma once

#include "RequestRecord.h"
#include "protocol/Messages.h"

#include <QElapsedTimer>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QTimer>
#include <QUrl>

#include <deque>

namespace keyhole::client {

class ServiceWebSocket;

// One visitor WebSocket replayed against the local service: opens a ServiceWebSocket to the target
// with the visitor's headers and subprotocols and the Host that --host-header asks for (as for plain
// HTTP: the visitor's by default), answers the WsRequest (accepted, or refused with the service's
// status), then passes whole messages both ways and turns a close on either end into a close on the
// other. Everything it has to tell the proxy comes out of its signals, in order; finished() is the
// last one, after which it says nothing more.
class LocalWebSocket : public QObject
{
    Q_OBJECT

public:
    static constexpr qint64 kMaxQueuedBytes = 8 * 1024 * 1024;

    struct Options {
        QUrl target;        // http(s)://host:port; ws:// or wss:// is used for it
        QString hostHeader; // as LocalForwarder::Options::hostHeader: empty keeps the visitor's Host
        QList<QSslCertificate> extraCaCertificates;
        qint64 maxMessageBytes = 512000;         // the proxy's limit, from the RegistrationResponse
        int handshakeTimeoutMs = 28000;          // the proxy's request timeout minus a margin
        qint64 maxQueuedBytes = kMaxQueuedBytes; // towards the local service, while connecting or unsent
    };

    LocalWebSocket(const protocol::WsRequest &request, const Options &options, QObject *parent = nullptr);
    ~LocalWebSocket() override;

    QByteArray id() const { return m_request.id; }
    bool isConnecting() const { return m_phase == Phase::Connecting; }
    bool isFinished() const { return m_phase == Phase::Finished; }
    // The URL the handshake goes to (ws:// or wss://, the visitor's path and query).
    QUrl url() const { return m_url; }

    // Starts the handshake. A request that cannot be passed on (bad path or header) is refused with 400
    // right away.
    void open();
    // A message from the visitor; queued while the handshake runs.
    void deliver(const protocol::WsMessage &message);
    // The visitor's end closed (WsTeardown) or the control connection is gone: close the local
    // socket with this code and forget it. No teardown goes back.
    void closeFromProxy(int code, const QString &reason);

    // 1005 (no code) travels as 1000, 1006 (vanished) as 1001; anything not sendable as 1000.
    static int normalizeCloseCode(int code);

Q_SIGNALS:
    void responded(const keyhole::protocol::WsResponse &response);
    void messageForProxy(const keyhole::protocol::WsMessage &message);
    void tornDown(const keyhole::protocol::WsTeardown &teardown);
    // For the request log: accepted, refused and closed.
    void activity(const keyhole::client::RequestRecord &record);
    void finished();

private:
    enum class Phase { Idle, Connecting, Open, Closing, Finished };

    void onConnected();
    // The handshake failed: refuse with the service's status, or 502 naming what went wrong.
    void refuseHandshake();
    void onDisconnected();
    void onTimer();
    void onLocalMessage(const QByteArray &payload, bool binary);
    void sendToLocal(const protocol::WsMessage &message);
    void refuse(int status, const QString &message);
    // Closes the local socket ourselves and tells the proxy (1009, 1013...).
    void closeBoth(int code, const QString &reason);
    void closeLocal(int code, const QString &reason);
    void finish(int code, const QString &reason);
    QString authority() const;
    QByteArray hostFor(const QByteArray &visitorHost) const;

    protocol::WsRequest m_request;
    Options m_options;
    QUrl m_url;
    ServiceWebSocket *m_socket = nullptr;
    Phase m_phase = Phase::Idle;
    QTimer m_timer; // handshake timeout, then the bound on a close handshake
    QElapsedTimer m_elapsed;
    std::deque<protocol::WsMessage> m_queue;
    qint64 m_queuedBytes = 0;
    RequestRecord m_record;
};

} // namespace keyhole::client
