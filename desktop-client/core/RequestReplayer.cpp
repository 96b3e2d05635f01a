#include "RequestReplayer.h"

#include "LocalForwarder.h"
#include "protocol/Messages.h"

#include <QPointer>

namespace keyhole::client {

namespace {

protocol::HttpRequest requestFor(const RequestRecord &record)
{
    protocol::HttpRequest request;
    // Its own id: the forwarder's records must not be mistaken for the original's.
    request.id = record.id + QByteArrayLiteral("-replay");
    request.method = record.method;
    request.path = record.path;
    request.query = record.query;
    request.headers = record.requestHeaders;
    request.body = record.requestBodyPreview;
    request.remoteAddress = record.remoteAddress;
    return request;
}

} // namespace

RequestReplayer::RequestReplayer(QObject *parent)
    : QObject(parent)
{
}

RequestReplayer::~RequestReplayer() = default;

bool RequestReplayer::isBodyTruncated(const RequestRecord &record)
{
    return record.requestBodyTruncated || record.bytesIn > record.requestBodyPreview.size();
}

bool RequestReplayer::replay(const RequestRecord &record, const QUrl &target)
{
    // A preview shorter than the body would send the service another request than the visitor's.
    if (record.kind != RequestRecord::Kind::Http || isBodyTruncated(record))
        return false;
    // Rebuilt only when the target changed: it keeps connections alive between replays.
    if (!m_forwarder || m_forwarder->options().target != target) {
        delete m_forwarder;
        LocalForwarder::Options options;
        options.target = target;
        options.maxConcurrent = kMaxConcurrent;
        options.maxQueued = kMaxQueued;
        m_forwarder = new LocalForwarder(options, this);
    }
    QPointer<RequestReplayer> self(this);
    const QByteArray id = record.id;
    m_forwarder->forward(requestFor(record), [self, id](const protocol::HttpResponse &, const RequestRecord &result) {
        if (self)
            Q_EMIT self->finished(id, result);
    });
    return true;
}

} // namespace keyhole::client
