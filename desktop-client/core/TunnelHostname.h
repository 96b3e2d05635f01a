#pragma once

#include <QString>
#include <QUrl>

namespace keyhole::crypto {
class KeyPair;
}

namespace keyhole::client {

// The hostname a key gets before the proxy confirms it, so the CLI and the tray app can show it
// ahead of registration and agree on it. The proxy's answer (TunnelInfo) is authoritative: its
// domain may differ from the host of its URL.
class TunnelHostname
{
public:
    // The first label: derived from the key, and from the tunnel name when there is one.
    static QString label(const crypto::KeyPair &key, const QString &name = {});
    // <label>.<proxy host>, lowercase (a proxy's domain usually is its host); only the label when the
    // URL has no host yet (a half-typed URL).
    static QString predict(const crypto::KeyPair &key, const QString &name, const QUrl &proxyUrl);
    static QString predict(const QString &label, const QUrl &proxyUrl);
};

} // namespace keyhole::client
