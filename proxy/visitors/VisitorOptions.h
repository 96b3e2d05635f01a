#pragma once

#include "http/HttpParser.h"

#include <QHostAddress>
#include <QList>
#include <QPair>
#include <QString>

namespace keyhole::util {
class Clock;
}

namespace keyhole::proxy {

// What the visitor side needs to know, and nothing else: ProxyServer fills it from ProxyConfig,
// so this part neither sees the tunnel side's settings nor depends on the command line.
struct VisitorOptions {
    QString domain;
    bool pathRouting = false;
    QList<QPair<QHostAddress, int>> trustedProxies; // subnets whose X-Forwarded-* we keep

    qsizetype maxHeadBytes = 0;
    int maxHeaders = 0;
    qsizetype maxUrlBytes = 0;
    qint64 maxRequestBodyBytes = 0; // 0: no limit
    qint64 maxWsMessageBytes = 0;

    int headTimeoutMs = 0;
    int idleTimeoutMs = 0;
    int requestTimeoutMs = 0;  // the wait for a response's head
    int bodyIdleTimeoutMs = 0; // a streamed body that moves no byte either way
    int sendTimeoutMs = 0;
    int wsKeepAliveMs = 0;

    const util::Clock *clock = nullptr; // never null once ProxyServer built it

    bool isTrustedProxy(const QHostAddress &address) const;
    http::HttpParser::Limits parserLimits() const;
};

// True when `address` (an IPv4-mapped IPv6 address counts as IPv4) lies in one of `subnets`.
bool isInAnySubnet(const QHostAddress &address, const QList<QPair<QHostAddress, int>> &subnets);

} // namespace keyhole::proxy
