#pragma once

#include "RequestRecord.h"

#include <QObject>
#include <QUrl>

namespace keyhole::client {

class LocalForwarder;

// Sends a request from the request log to the local service again ("replay"), the way the tunnel
// sends a visitor's: the same method, path, query and headers, and the body, when the preview
// holds all of it. The answer comes back as a RequestRecord; a replay is not a visitor request and goes to
// no log. Keeps one small LocalForwarder of its own (keep-alive connections to the target), rebuilt
// when the target changes. Owned by its parent; replays still running when it goes are dropped.
class RequestReplayer : public QObject
{
    Q_OBJECT

public:
    // A few at once: a user clicking, not traffic.
    static constexpr int kMaxConcurrent = 4;
    static constexpr int kMaxQueued = 16;

    explicit RequestReplayer(QObject *parent = nullptr);
    ~RequestReplayer() override;

    // Starts a replay of `record` against `target` (http(s)://host:port). False, and nothing is
    // sent, for what cannot be replayed: a WebSocket, or a request whose body was only partly kept.
    bool replay(const RequestRecord &record, const QUrl &target);
    // The record's body preview is shorter than the request's body was: it cannot be replayed.
    static bool isBodyTruncated(const RequestRecord &record);

Q_SIGNALS:
    // One per replay(), from the event loop. `recordId` is the id of the replayed record; `result` is
    // the new exchange (status, response headers and body preview, or the error keyhole answered with).
    void finished(const QByteArray &recordId, const keyhole::client::RequestRecord &result);

private:
    LocalForwarder *m_forwarder = nullptr;
};

} // namespace keyhole::client
