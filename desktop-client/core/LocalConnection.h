#pragma once

#include "http/HttpMessageHead.h"
#include "http/HttpParser.h"
#include "util/LazyDeadline.h"

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QSslCertificate>
#include <QUrl>

#include <memory>

class QTcpSocket;

namespace keyhole::client {

// One keep-alive HTTP/1.1 connection to the local service (plain TCP or TLS). Runs one exchange at
// a time: writes the request bytes, parses the response, reports it with finished(). Afterwards it
// is either idle (reusable) or dead (the pool drops it). An idle connection closes itself after a
// while and reports that with closed().
class LocalConnection : public QObject
{
    Q_OBJECT

public:
    enum class Failure {
        None,
        Refused,       // the connect was refused
        ConnectFailed, // other connect errors (host not found, TLS handshake...)
        Timeout,
        TooLarge,      // the response body is over the limit
        Malformed,     // the response is not valid HTTP
        ClosedEarly,   // closed in the middle of the response, or before it on a new connection
        StaleClosed,   // a reused connection closed before any byte of the response (see requestWritten)
    };

    struct Outcome {
        Failure failure = Failure::None;
        QString errorText; // socket or parser error when failure != None
        // Some of the request reached the system's socket: the service may have read it and acted on
        // it even if it never answered, so only a request that is safe to repeat may be sent again.
        bool requestWritten = false;
        http::ResponseHead head;
        QByteArray body;
    };

    static constexpr int kIdleTimeoutMs = 30000;

    LocalConnection(const QUrl &target, const QList<QSslCertificate> &extraCaCertificates,
                    QObject *parent = nullptr);
    ~LocalConnection() override;

    bool isIdle() const { return m_state == State::Idle; }
    bool isDead() const { return m_state == State::Dead; }
    int servedCount() const { return m_served; }

    // Starts one exchange; the connection must be idle. `request` is the complete request.
    void start(const QByteArray &request, bool expectNoBody, qint64 maxBodyBytes, int timeoutMs);
    // Closes without reporting anything.
    void abandon();

Q_SIGNALS:
    void finished(const keyhole::client::LocalConnection::Outcome &outcome);
    // An idle connection went away (closed by the service or by the idle timer).
    void closed();

private:
    enum class State { Idle, Busy, Dead };

    void onConnected();
    void onReadyRead();
    void onBytesWritten();
    void onSocketGone();
    void onTimer();
    void appendInput(const QByteArray &data);
    void clearInput();
    bool parseBuffered(); // true when the exchange ended (finished emitted)
    void finishExchange(Outcome outcome, bool keepAlive);
    void fail(Failure failure, const QString &text);
    void killSocket();

    QUrl m_target;
    bool m_tls = false;
    QTcpSocket *m_socket = nullptr;
    bool m_connected = false;
    util::LazyDeadline m_timer; // the exchange's deadline while busy, the idle timeout while idle
    State m_state = State::Idle;
    int m_served = 0;
    bool m_requestWritten = false; // during the current exchange

    std::unique_ptr<http::HttpParser> m_parser;
    QByteArray m_buffer;       // bytes read from the service, parsed up to m_bufferPos
    qsizetype m_bufferPos = 0;
    QByteArray m_pendingWrite;
    qint64 m_responseBytes = 0;
    bool m_expectNoBody = false;
    qint64 m_maxBodyBytes = 0;
};

} // namespace keyhole::client

Q_DECLARE_METATYPE(keyhole::client::LocalConnection::Outcome)
