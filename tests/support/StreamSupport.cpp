#include "StreamSupport.h"

#include "CurlJob.h"
#include "TestEnvironment.h"

#include <QCryptographicHash>
#include <QFile>
#include <QJsonDocument>

#include <chrono>

namespace keyhole::testing {

namespace {
constexpr qint64 BlockBytes = 65536;
constexpr qint64 RotationStep = 7919; // as stream_service.py

// Calls `sink(piece)` with the stream's bytes in order, one block at a time.
template <typename Sink> void forEachStreamBlock(qint64 size, const QByteArray &seed, Sink sink)
{
    const QByteArray base = deterministicBytes(BlockBytes, seed);
    const QByteArray doubled = base + base;
    for (qint64 i = 0; i * BlockBytes < size; ++i) {
        const qint64 rotation = (i * RotationStep) % BlockBytes;
        const qint64 length = qMin(BlockBytes, size - i * BlockBytes);
        sink(QByteArrayView(doubled.constData() + rotation, length));
    }
}
} // namespace

QByteArray streamBytes(qint64 size, const QByteArray &seed)
{
    QByteArray out;
    out.reserve(size);
    forEachStreamBlock(size, seed, [&out](QByteArrayView piece) { out.append(piece); });
    return out;
}

QByteArray streamSha256Hex(qint64 size, const QByteArray &seed)
{
    QCryptographicHash hash(QCryptographicHash::Sha256);
    forEachStreamBlock(size, seed, [&hash](QByteArrayView piece) { hash.addData(piece); });
    return hash.result().toHex();
}

bool writeStreamFile(const QString &path, qint64 size, const QByteArray &seed)
{
    QFile file(path);
    if (!file.open(QIODevice::WriteOnly | QIODevice::Truncate))
        return false;
    bool ok = true;
    forEachStreamBlock(
        size, seed, [&](QByteArrayView piece) { ok = ok && file.write(piece.data(), piece.size()) == piece.size(); });
    return ok && file.flush();
}

QString streamServiceScript()
{
    return qEnvironmentVariable("KEYHOLE_STREAM_SERVICE", QStringLiteral(KEYHOLE_TEST_STREAM_SERVICE_SCRIPT));
}

QJsonObject streamServiceRecord(quint16 servicePort, const QString &id)
{
    const CurlResult r = runCurl({QStringLiteral("http://127.0.0.1:%1/progress?id=%2").arg(servicePort).arg(id)},
                                 10000);
    if (r.exitCode != 0 || r.status != 200)
        return {};
    return QJsonDocument::fromJson(r.body).object();
}

qint64 vmRssKib(qint64 pid)
{
    QFile file(QStringLiteral("/proc/%1/status").arg(pid));
    if (pid <= 0 || !file.open(QIODevice::ReadOnly))
        return -1;
    // /proc files report size 0, so atEnd() is true at once: read everything, then look for the field.
    for (const QByteArray &line : file.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').value(0).toLongLong();
    }
    return -1;
}

qint64 monotonicNs()
{
    // steady_clock is CLOCK_MONOTONIC with libstdc++ and libc++ on Linux, as Python's time.monotonic_ns().
    return std::chrono::duration_cast<std::chrono::nanoseconds>(std::chrono::steady_clock::now().time_since_epoch())
        .count();
}

} // namespace keyhole::testing
