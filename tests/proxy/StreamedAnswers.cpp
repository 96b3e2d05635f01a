#include "StreamedAnswers.h"

using namespace keyhole;

StreamedAnswers::StreamedAnswers(FakeTunnelClient *client, qint64 size, protocol::HeaderList headers)
    : QObject(client)
    , m_client(client)
    , m_size(size)
    , m_headers(std::move(headers))
{
    connect(client, &FakeTunnelClient::messageReceived, this, &StreamedAnswers::onMessage);
}

qint64 StreamedAnswers::totalCredited() const
{
    qint64 total = 0;
    for (const Exchange &exchange : m_exchanges)
        total += exchange.credited;
    return total;
}

void StreamedAnswers::onMessage()
{
    for (; m_seen < m_client->received.size(); ++m_seen) {
        const protocol::Message &message = m_client->received.at(m_seen);
        if (const auto *request = std::get_if<protocol::HttpRequest>(&message)) {
            m_exchanges.insert(request->id, {});
            protocol::HttpResponse response;
            response.id = request->id;
            response.status = 200;
            response.headers = m_headers;
            response.streamed = true;
            m_client->send(response);
            pump(request->id);
        } else if (const auto *credit = std::get_if<protocol::HttpCredit>(&message)) {
            if (!m_exchanges.contains(credit->id))
                continue;
            m_exchanges[credit->id].credited += credit->bytes;
            pump(credit->id);
        } else if (const auto *cancel = std::get_if<protocol::HttpCancel>(&message)) {
            if (!m_exchanges.contains(cancel->id))
                continue;
            m_exchanges[cancel->id].ended = true;
            m_exchanges[cancel->id].cancelled = true;
        }
    }
}

void StreamedAnswers::pump(const QByteArray &id)
{
    Exchange &exchange = m_exchanges[id];
    while (!exchange.ended) {
        const qint64 room = protocol::kStreamWindowBytes - (exchange.sent - exchange.credited);
        const qint64 size = qMin(qMin(protocol::kBodyChunkBytes, m_size - exchange.sent), room);
        if (size <= 0 && exchange.sent < m_size)
            return;
        const bool end = exchange.sent + size == m_size;
        m_client->send(protocol::HttpBody{id, QByteArray(size, 'a'), end});
        exchange.sent += size;
        exchange.ended = end;
    }
}
