#pragma once

#include <QByteArray>
#include <QJsonObject>
#include <QString>

namespace keyhole::testing {

// tests/integration/stream_service.py's bytes: 64 KiB block i is deterministicBytes(65536, seed) rotated
// left by (i * 7919) % 65536, cut to `size`. Fast for hundreds of MiB, and no two blocks are equal, so a
// block lost, repeated or reordered on the way changes the hash.
QByteArray streamBytes(qint64 size, const QByteArray &seed);
// SHA-256 (hex) of streamBytes(size, seed), computed block by block without holding the whole.
QByteArray streamSha256Hex(qint64 size, const QByteArray &seed);
bool writeStreamFile(const QString &path, qint64 size, const QByteArray &seed);

// The stream service script ($KEYHOLE_STREAM_SERVICE overrides the one in the source tree).
QString streamServiceScript();

// What stream_service.py recorded for the request tagged `id=<id>` (GET /progress straight to the service,
// not through the tunnel): written, events, finished, closed_ns, error. Empty if it has no such record.
QJsonObject streamServiceRecord(quint16 servicePort, const QString &id);

// VmRSS of a running process in KiB from /proc/<pid>/status; -1 if it cannot be read (not Linux, gone).
qint64 vmRssKib(qint64 pid);

// Monotonic nanoseconds on the clock stream_service.py stamps its events with (time.monotonic_ns(): CLOCK_MONOTONIC
// on Linux).
qint64 monotonicNs();

} // namespace keyhole::testing
