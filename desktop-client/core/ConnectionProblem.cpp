#include "ConnectionProblem.h"

namespace keyhole::client {

ConnectionProblem ConnectionProblem::classify(websocket::WebSocketConnector::Failure failure, int httpStatus,
                                              const QString &detail, const QUrl &proxyUrl)
{
    using Failure = websocket::WebSocketConnector::Failure;
    ConnectionProblem p;
    p.detail = detail;
    const QString host = proxyUrl.host();
    const bool tls = proxyUrl.scheme() == QLatin1String("https");
    switch (failure) {
    case Failure::None:
        return p;
    case Failure::HostNotFound:
        p.kind = Kind::UnknownHost;
        p.sentence = QStringLiteral("The proxy host %1 was not found").arg(host);
        p.advice = QStringLiteral("Check the proxy URL in Settings, and that this computer is online.");
        return p;
    case Failure::Certificate:
        p.kind = Kind::CertificateRefused;
        p.sentence = QStringLiteral("The certificate of %1 was refused").arg(host);
        p.advice = QStringLiteral("If the proxy uses its own certificate authority, choose that CA's certificate as "
                                  "CA file in Settings; otherwise check the proxy's certificate.");
        return p;
    case Failure::Tls:
        // A TLS handshake that fails without a word about the certificate: the other side did not speak
        // TLS at all (a plain HTTP port).
        p.kind = Kind::WrongScheme;
        p.sentence = QStringLiteral("%1 does not speak HTTPS on this port").arg(host);
        p.advice = QStringLiteral("Use http:// in the proxy URL, or the proxy's HTTPS port.");
        return p;
    case Failure::Closed:
        // A TLS server hangs up on a plain-text request; anything else closing is a passing loss.
        if (!tls && proxyUrl.port(80) == 443) {
            p.kind = Kind::WrongScheme;
            p.sentence = QStringLiteral("%1 closed the connection on plain HTTP").arg(host);
            p.advice = QStringLiteral("Use https:// in the proxy URL.");
            return p;
        }
        break;
    case Failure::UpgradeRefused:
        if (httpStatus == 429 || httpStatus == 502 || httpStatus == 503 || httpStatus == 504)
            break; // a front proxy whose backend is restarting, or a rate limit: wait and retry
        if (!tls && proxyUrl.port(80) == 443) {
            // nginx and friends answer 400 "The plain HTTP request was sent to HTTPS port".
            p.kind = Kind::WrongScheme;
            p.sentence = QStringLiteral("%1 expects HTTPS on port 443").arg(host);
            p.advice = QStringLiteral("Use https:// in the proxy URL.");
            return p;
        }
        p.kind = Kind::NotAProxy;
        p.sentence = QStringLiteral("%1 answered HTTP %2 instead of opening the tunnel").arg(host).arg(httpStatus);
        p.advice = QStringLiteral("Check that the proxy URL points at a keyhole proxy (scheme, host and port).");
        return p;
    case Failure::BadHandshake:
        p.kind = Kind::NotAProxy;
        p.sentence = QStringLiteral("%1 did not answer like a keyhole proxy").arg(host);
        p.advice = QStringLiteral("Check that the proxy URL points at a keyhole proxy (scheme, host and port).");
        return p;
    case Failure::BadUrl:
        p.kind = Kind::BadUrl;
        p.sentence = QStringLiteral("The proxy URL %1 cannot be used").arg(proxyUrl.toString());
        p.advice = QStringLiteral("Enter an http:// or https:// URL in Settings.");
        return p;
    case Failure::TimedOut:
    case Failure::Refused:
    case Failure::Network:
        break;
    }
    p.kind = Kind::Transient;
    p.sentence = detail;
    return p;
}

const char *ConnectionProblem::kindName(Kind kind)
{
    switch (kind) {
    case Kind::None:
        return "none";
    case Kind::Transient:
        return "transient";
    case Kind::UnknownHost:
        return "unknown-host";
    case Kind::WrongScheme:
        return "wrong-scheme";
    case Kind::CertificateRefused:
        return "certificate-refused";
    case Kind::NotAProxy:
        return "not-a-proxy";
    case Kind::BadUrl:
        return "bad-url";
    }
    return "?";
}

} // namespace keyhole::client
