#pragma once

#include "FakeTunnelClient.h"
#include "InProcessProxy.h"
#include "RawVisitor.h"

#include <memory>
#include <optional>

// The proxy in process (InProcessProxy) with one scripted tunnel client, and what the streaming tests
// ask of them.
class StreamingFixture
{
public:
    InProcessProxy proxy; // the server; what follows only adds the streaming helpers

    static keyhole::proxy::ProxyConfig baseConfig() { return InProcessProxy::baseConfig(); }
    // Starts the proxy and registers a client; null when either did not come up.
    std::unique_ptr<FakeTunnelClient> start(const keyhole::proxy::ProxyConfig &config)
    {
        return proxy.startWithClient(config);
    }
    QByteArray hostFor(const FakeTunnelClient &client) const { return proxy.hostFor(client); }

    // Waits for the client's first HttpRequest.
    static std::optional<keyhole::protocol::HttpRequest> firstRequest(FakeTunnelClient &client);
    static keyhole::protocol::HttpResponse streamedHead(const QByteArray &id,
                                                        keyhole::protocol::HeaderList headers = {});
    static bool cancelledFor(const FakeTunnelClient &client, const QByteArray &id);
    // Everything of the request body the client got: the head's first bytes, then each HttpBody.
    static QByteArray requestBodySoFar(const FakeTunnelClient &client, bool *ended = nullptr);
    // What the visitor has received so far, `into` included.
    static QByteArray readAvailable(RawVisitor &visitor, QByteArray *into);
};
