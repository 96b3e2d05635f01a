#pragma once

#include "websocket/WebSocketConnector.h"

#include <QString>
#include <QUrl>

namespace keyhole::client {

// Why the tunnel cannot reach the proxy, in words for the user: a passing loss (the network, a
// proxy restart) is a quiet reconnect, while a lasting one (a host that does not exist, a
// certificate we refuse, TLS spoken to a plain port, a URL that is not a keyhole proxy) will not fix
// itself by retrying and needs the user: it comes with a sentence and what to do. The client keeps
// retrying either way (a fixed DNS or a renewed certificate heals it), the UI decides how loud to be.
struct ConnectionProblem {
    enum class Kind {
        None,
        Transient,          // timed out, refused, closed, reset, 5xx from a front proxy
        UnknownHost,        // the proxy's host name does not resolve
        WrongScheme,        // https:// to a plain port, or http:// to a TLS port
        CertificateRefused, // the proxy's certificate is not trusted (or not for this name)
        NotAProxy,          // something answered, but not a keyhole proxy's subscribe endpoint
        BadUrl,             // the proxy URL cannot be dialled at all
    };

    Kind kind = Kind::None;
    QString sentence; // "The proxy's certificate was refused: ..."
    QString advice;   // "Choose the proxy's CA certificate as CA file in Settings."
    QString detail;   // the underlying error, for the log and tooltips

    bool isLasting() const { return kind != Kind::None && kind != Kind::Transient; }

    // `proxyUrl` is the one the user gave (http(s)://), for naming the host and the scheme to change.
    static ConnectionProblem classify(websocket::WebSocketConnector::Failure failure, int httpStatus,
                                      const QString &detail, const QUrl &proxyUrl);
    // "unknown-host", "wrong-scheme"...
    static const char *kindName(Kind kind);
};

} // namespace keyhole::client
