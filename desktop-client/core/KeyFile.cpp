#include "KeyFile.h"

#include "ReplaceFile.h"
#include "ClientLogging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>

namespace keyhole::client {

namespace {

constexpr qint64 kMaxKeyFileBytes = 64 * 1024; // a PEM key is a few hundred bytes

KeyFile::Result failure(QString error)
{
    KeyFile::Result result;
    result.error = std::move(error);
    return result;
}

} // namespace

KeyFile::Result KeyFile::load(const QString &path)
{
    QFile file(path);
    if (!file.exists())
        return failure(QStringLiteral("the key file %1 does not exist").arg(path));
    if (!file.open(QIODevice::ReadOnly))
        return failure(QStringLiteral("cannot read the key file %1: %2").arg(path, file.errorString()));
    if (file.size() > kMaxKeyFileBytes)
        return failure(QStringLiteral("the key file %1 is too large to be a PEM key").arg(path));
    const QByteArray pem = file.read(kMaxKeyFileBytes);
    QString parseError;
    std::optional<crypto::KeyPair> key = crypto::KeyPair::fromPrivatePem(pem, &parseError);
    if (!key || !key->hasPrivateKey())
        return failure(QStringLiteral("the key file %1 does not hold a P-256 private key in PEM%2; "
                                      "fix it or move it away to create a new key")
                           .arg(path, parseError.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(parseError)));

#ifdef Q_OS_UNIX
    const auto others = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ReadOther
        | QFileDevice::WriteOther;
    if (file.permissions() & others)
        qCWarning(lcClient, "the key file %s can be read by other users; consider chmod 600", qPrintable(path));
#endif

    Result result;
    result.key = std::move(key);
    return result;
}

KeyFile::Result KeyFile::loadOrCreate(const QString &path)
{
    if (path.isEmpty())
        return failure(QStringLiteral("no key file given"));
    const QFileInfo info(path);
    // exists() is false for a dangling symlink too; refuse to write through one.
    if (info.exists() || info.isSymLink())
        return load(path);

    std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
    if (!key)
        return failure(QStringLiteral("could not generate a new key"));
    const QByteArray pem = key->privatePem();
    if (pem.isEmpty())
        return failure(QStringLiteral("could not encode the new key"));

    QString error;
    if (!save(path, pem, &error))
        return failure(error);

    qCInfo(lcClient, "created a new key in %s", qPrintable(path));
    Result result;
    result.key = std::move(key);
    result.created = true;
    return result;
}

bool KeyFile::save(const QString &path, const QByteArray &pem, QString *error)
{
    QString why;
    if (!ReplaceFile::write(path, pem, ReplaceFile::kOwnerOnly, &why)) {
        *error = QStringLiteral("cannot write the key file %1: %2").arg(path, why);
        return false;
    }
    return true;
}

} // namespace keyhole::client
