#pragma once

#include <QByteArray>
#include <QString>
#include <QStringView>

namespace keyhole::crypto {

class KeyPair;

// Hostname labels. label = lowercase unpadded base32 (RFC 4648) of the raw 32-byte RFC 7638
// thumbprint: 52 characters. With a name, label = base32(SHA-256(label + name)), so one key can
// hold several hostnames. The same rule as the original implementation: same key, same hostname.
QString base32Lower(const QByteArray &raw);
QString labelForThumbprint(const QByteArray &thumbprint, const QString &name = {});
QString labelForKey(const KeyPair &key, const QString &name = {});

// 52 characters of [a-z2-7].
bool isValidLabel(QStringView label);
// Optional tunnel names: 1..63 characters of [a-z0-9-], not starting or ending with '-'.
bool isValidTunnelName(QStringView name);

} // namespace keyhole::crypto
