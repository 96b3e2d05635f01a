#pragma once

#include "LocalConnection.h"
#include "RequestRecord.h"
#include "protocol/Messages.h"

#include <QBasicTimer>
#include <QElapsedTimer>
#include <QObject>
#include <QPointer>

namespace keyhole::client {

// One visitor request on its way through the local service: the request body streamed in (HttpBody
// from the proxy, credit back as the service's socket takes it) and the response streamed out
// (HttpResponse, then HttpBody within the proxy's credit, reading paused while there is none).
// Owns no connection: LocalForwarder attaches one when the pool has it free. In Collect mode the
// response goes out as one complete HttpResponse (for replays and whole-response callers).
// Everything it has to say goes out through messageForProxy(); finished() comes last.
class LocalExchange : public QObject
{
    Q_OBJECT

public:
    enum class Mode { Stream, Collect };
    enum class Framing { Length, Chunked }; // how the request body goes to the service

    struct Settings {
        QString authority;               // host:port of the service, for error texts
        qint64 maxRequestBodyBytes = 0;  // 0: no limit
        qint64 maxResponseBodyBytes = 0; // 0: no limit
        int headTimeoutMs = 28000;       // waiting for the response head
        int bodyIdleTimeoutMs = 120000;  // a body that moves no byte in either direction
        qint64 maxCollectedBytes = 0;    // Collect mode: bound of the buffered response body
    };

    // `head` is the request head as written to the service; `framing` says how the body follows.
    LocalExchange(const protocol::HttpRequest &request, const QByteArray &head, Framing framing, qint64 declaredLength,
                  Mode mode, const Settings &settings, RequestRecord record, QObject *parent = nullptr);
    ~LocalExchange() override;

    // Takes the request's first bytes; call once its signals are connected.
    void begin();

    QByteArray id() const { return m_id; }
    bool isDone() const { return m_done; }
    LocalConnection *connection() const { return m_connection; }
    // The request may go again on a fresh connection after `outcome` (a stale kept-alive one).
    bool canRetry(const LocalConnection::Outcome &outcome) const;

    void attach(LocalConnection *connection);
    // From the proxy.
    void deliverBody(const protocol::HttpBody &body);
    void grantCredit(qint64 bytes);
    void cancel(const QString &reason);
    // The attached connection ended the exchange (finished()).
    void connectionFinished(const LocalConnection::Outcome &outcome);
    // Answers without the service (invalid request, queue full...).
    void failWith(int status, const QString &message);

Q_SIGNALS:
    void messageForProxy(const keyhole::protocol::Message &message);
    void finished(const keyhole::client::RequestRecord &record);

protected:
    void timerEvent(QTimerEvent *event) override;

private:
    void onHead(const http::ResponseHead &head, const QByteArray &body, bool complete);
    void onBody(const QByteArray &data, bool complete);
    void onRequestBodyWritten(qint64 bytes);
    void onTimer();
    bool countResponse(const QByteArray &data); // false when over the limit (the exchange failed)
    void flush();
    void passOn(const QByteArray &framed, qint64 bodyBytes);
    void fail(int status, const QString &message);
    void finish(const QString &error);
    void detach(bool abandon);
    void touch();

    QByteArray m_id;
    QByteArray m_method;
    Mode m_mode;
    Settings m_settings;
    RequestRecord m_record;
    QElapsedTimer m_elapsed;
    // The head timeout, then the body idle timeout. A QBasicTimer: one exchange per request, and a
    // QTimer is an object and a connection more each time.
    QBasicTimer m_timer;
    QPointer<LocalConnection> m_connection;
    bool m_done = false;

    // Request body.
    bool m_requestStreamed = false;
    Framing m_framing;
    qint64 m_declaredLength = -1;
    QByteArray m_firstBody;   // until begin()
    QByteArray m_initialWire; // head + body known before a connection is attached (for a retry too)
    qint64 m_initialBodyBytes = 0;
    bool m_wroteAfterStart = false; // body was passed on after start(): no retry possible
    bool m_retried = false;
    bool m_requestEnded = false;
    qint64 m_requestReceived = 0; // body bytes from the proxy
    qint64 m_requestCredited = 0; // granted back
    qint64 m_requestWritten = 0;  // taken by the service's socket

    // Response body.
    bool m_headReceived = false;
    bool m_headSent = false; // Stream mode: the HttpResponse went out
    bool m_responseEnded = false;
    protocol::HttpResponse m_response; // Collect mode: the whole answer
    QByteArray m_pending;              // Stream mode: read from the service, not yet sent
    qint64 m_inFlight = 0;             // sent, not yet credited
    qint64 m_responseBytes = 0;
};

} // namespace keyhole::client
