#include "StreamingFixture.h"

#include <QTest>

using namespace keyhole;

std::optional<protocol::HttpRequest> StreamingFixture::firstRequest(FakeTunnelClient &client)
{
    if (!QTest::qWaitFor([&] { return !client.receivedOf<protocol::HttpRequest>().isEmpty(); }, 5000))
        return std::nullopt;
    return client.receivedOf<protocol::HttpRequest>().first();
}

protocol::HttpResponse StreamingFixture::streamedHead(const QByteArray &id, protocol::HeaderList headers)
{
    protocol::HttpResponse response;
    response.id = id;
    response.status = 200;
    response.headers = std::move(headers);
    response.streamed = true;
    return response;
}

bool StreamingFixture::cancelledFor(const FakeTunnelClient &client, const QByteArray &id)
{
    for (const auto &cancel : client.receivedOf<protocol::HttpCancel>()) {
        if (cancel.id == id)
            return true;
    }
    return false;
}

QByteArray StreamingFixture::requestBodySoFar(const FakeTunnelClient &client, bool *ended)
{
    QByteArray body;
    for (const auto &request : client.receivedOf<protocol::HttpRequest>())
        body += request.body;
    for (const auto &piece : client.receivedOf<protocol::HttpBody>()) {
        body += piece.data;
        if (ended && piece.end)
            *ended = true;
    }
    return body;
}

QByteArray StreamingFixture::readAvailable(RawVisitor &visitor, QByteArray *into)
{
    *into += visitor.socket.readAll();
    return *into;
}
