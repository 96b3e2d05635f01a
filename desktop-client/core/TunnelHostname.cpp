#include "TunnelHostname.h"

#include "crypto/KeyPair.h"
#include "crypto/Label.h"
#include "protocol/Addressing.h"

namespace keyhole::client {

QString TunnelHostname::label(const crypto::KeyPair &key, const QString &name)
{
    return crypto::labelForKey(key, name);
}

QString TunnelHostname::predict(const crypto::KeyPair &key, const QString &name, const QUrl &proxyUrl)
{
    return predict(label(key, name), proxyUrl);
}

QString TunnelHostname::predict(const QString &label, const QUrl &proxyUrl)
{
    const QString host = proxyUrl.host().toLower();
    return host.isEmpty() ? label : protocol::tunnelHostName(label, host);
}

} // namespace keyhole::client
