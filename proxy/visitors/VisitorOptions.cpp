#include "visitors/VisitorOptions.h"

#include "protocol/Messages.h"

namespace keyhole::proxy {

bool isInAnySubnet(const QHostAddress &address, const QList<QPair<QHostAddress, int>> &subnets)
{
    bool isV4 = false;
    const quint32 v4 = address.toIPv4Address(&isV4); // unwraps ::ffff:a.b.c.d
    const QHostAddress plain = isV4 ? QHostAddress(v4) : address;
    for (const auto &subnet : subnets) {
        if (plain.isInSubnet(subnet))
            return true;
    }
    return false;
}

http::HttpParser::Limits VisitorOptions::parserLimits() const
{
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = maxHeadBytes;
    limits.maxHeaders = maxHeaders;
    limits.maxUrlBytes = maxUrlBytes;
    // Bodies are taken from the parser as they arrive (the request limit is counted by the connection):
    // this bounds what the parser itself may hold or reserve before the connection sees the head.
    limits.maxBodyBytes = protocol::kInlineBodyBytes;
    return limits;
}

bool VisitorOptions::isTrustedProxy(const QHostAddress &address) const
{
    return isInAnySubnet(address, trustedProxies);
}

} // namespace keyhole::proxy
