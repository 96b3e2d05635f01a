#include "bus/redis/RedisEnvelope.h"

#include <QtEndian>

namespace keyhole::proxy {

namespace {
constexpr char kMagic0 = 'K';
constexpr char kMagic1 = 'H';
constexpr char kVersion = 1;
constexpr qsizetype kMaxReasonBytes = 1024;

void appendU16(QByteArray &out, quint16 v)
{
    char b[2];
    qToBigEndian(v, b);
    out.append(b, 2);
}

void appendU32(QByteArray &out, quint32 v)
{
    char b[4];
    qToBigEndian(v, b);
    out.append(b, 4);
}

void appendU64(QByteArray &out, quint64 v)
{
    char b[8];
    qToBigEndian(v, b);
    out.append(b, 8);
}

std::optional<RedisEnvelope> refuse(QString *error, const QString &why)
{
    if (error)
        *error = why;
    return std::nullopt;
}
} // namespace

QByteArray RedisEnvelope::head(Kind kind)
{
    QByteArray out;
    out.append(kMagic0).append(kMagic1).append(kVersion).append(char(kind));
    return out;
}

QByteArray RedisEnvelope::tail() const
{
    QByteArray out;
    out.reserve(1 + source.size() + 2 + key.size() + payload.size());
    out.append(char(quint8(source.size())));
    out.append(source);
    appendU16(out, quint16(key.size()));
    out.append(key);
    out.append(payload);
    return out;
}

QByteArray RedisEnvelope::encode() const
{
    Q_ASSERT(source.size() >= 1 && source.size() <= kMaxSourceBytes);
    Q_ASSERT(key.size() <= kMaxKeyBytes);
    QByteArray out;
    out.reserve(kHeadBytes + 8 + 3 + source.size() + key.size() + payload.size());
    out.append(head(kind));
    appendU64(out, epoch);
    out.append(tail());
    return out;
}

std::optional<RedisEnvelope> RedisEnvelope::decode(const QByteArray &frame, qsizetype maxFrameBytes, QString *error)
{
    if (frame.size() > maxFrameBytes)
        return refuse(error, QStringLiteral("envelope of %1 bytes is over the limit").arg(frame.size()));
    const auto *p = reinterpret_cast<const uchar *>(frame.constData());
    const qsizetype size = frame.size();
    if (size < kHeadBytes + 8 + 1 || p[0] != uchar(kMagic0) || p[1] != uchar(kMagic1))
        return refuse(error, QStringLiteral("not an envelope"));
    if (p[2] != uchar(kVersion))
        return refuse(error, QStringLiteral("envelope version %1 (expected 1)").arg(p[2]));
    RedisEnvelope envelope;
    const quint8 kind = p[3];
    if (kind < quint8(Kind::ToTunnel) || kind > quint8(Kind::Heartbeat))
        return refuse(error, QStringLiteral("unknown envelope kind %1").arg(kind));
    envelope.kind = Kind(kind);
    envelope.epoch = qFromBigEndian<quint64>(p + 4);
    qsizetype pos = kHeadBytes + 8;
    const qsizetype sourceLen = p[pos++];
    if (sourceLen < 1 || sourceLen > kMaxSourceBytes || pos + sourceLen + 2 > size)
        return refuse(error, QStringLiteral("bad source length"));
    envelope.source = frame.mid(pos, sourceLen);
    pos += sourceLen;
    const qsizetype keyLen = qFromBigEndian<quint16>(p + pos);
    pos += 2;
    if (keyLen > kMaxKeyBytes || pos + keyLen > size)
        return refuse(error, QStringLiteral("bad key length"));
    envelope.key = frame.mid(pos, keyLen);
    pos += keyLen;
    envelope.payload = frame.mid(pos);
    return envelope;
}

QByteArray RedisEnvelope::encodeFailure(int status, int retryAfterSecs, const QString &reason)
{
    QByteArray out;
    appendU16(out, quint16(qBound(0, status, 999)));
    appendU32(out, quint32(qMax(0, retryAfterSecs)));
    out.append(reason.toUtf8().left(kMaxReasonBytes));
    return out;
}

bool RedisEnvelope::decodeFailure(const QByteArray &payload, int *status, int *retryAfterSecs, QString *reason)
{
    if (payload.size() < 6 || payload.size() > 6 + kMaxReasonBytes)
        return false;
    const auto *p = reinterpret_cast<const uchar *>(payload.constData());
    *status = qFromBigEndian<quint16>(p);
    *retryAfterSecs = int(qMin<quint32>(qFromBigEndian<quint32>(p + 2), 86400));
    *reason = QString::fromUtf8(payload.mid(6));
    return *status >= 100 && *status <= 999;
}

QByteArray RedisEnvelope::encodeNumber(quint64 value)
{
    QByteArray out;
    appendU64(out, value);
    return out;
}

std::optional<quint64> RedisEnvelope::decodeNumber(const QByteArray &payload)
{
    if (payload.size() != 8)
        return std::nullopt;
    return qFromBigEndian<quint64>(reinterpret_cast<const uchar *>(payload.constData()));
}

} // namespace keyhole::proxy
