#pragma once

#include <QMetaType>
#include <QString>
#include <QtGlobal>

namespace keyhole::client {

// What the proxy told us about our tunnel when it accepted the registration: where visitors reach
// it and the limits it enforces. The client core's own type, so the CLI and the tray app show a
// tunnel without knowing the protocol's messages. Plain data.
struct TunnelInfo {
    QString hostname;                // <label>.<domain>
    QString publicUrl;               // what visitors open, e.g. https://<hostname>
    QString label;                   // the hostname's first label, derived from the key (and name)
    qint64 maxRequestBodyBytes = 0;  // the largest request body the proxy passes; 0: no limit
    qint64 maxResponseBodyBytes = 0; // the largest response body the proxy passes; 0: no limit
    qint64 requestTimeoutMs = 0;     // how long the proxy waits for an answer; 0: not said

    // False before the first accepted registration.
    bool isValid() const { return !publicUrl.isEmpty(); }
};

} // namespace keyhole::client

Q_DECLARE_METATYPE(keyhole::client::TunnelInfo)
