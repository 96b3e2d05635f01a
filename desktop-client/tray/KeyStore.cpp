#include "KeyStore.h"

#include "KeyFile.h"
#include "ClientLogging.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>

#ifdef KEYHOLE_HAVE_QTKEYCHAIN
#include <QEventLoop>
#include <qt6keychain/keychain.h>
#endif

namespace keyhole::tray {

namespace {

constexpr qint64 kMaxPemBytes = 64 * 1024;

#ifdef KEYHOLE_HAVE_QTKEYCHAIN
const QString kService = QStringLiteral("keyhole");
const QString kEntry = QStringLiteral("tunnel-key");

// QtKeychain is asynchronous; the key is a few hundred bytes and needed before anything else, so
// wait for the job in a local loop.
void runJob(QKeychain::Job *job)
{
    QEventLoop loop;
    QObject::connect(job, &QKeychain::Job::finished, &loop, &QEventLoop::quit);
    job->setAutoDelete(false);
    job->start();
    loop.exec();
}
#endif

bool writeOwnerOnly(const QString &path, const QByteArray &data, QString *error)
{
    return client::KeyFile::save(path, data, error);
}

} // namespace

KeyStore::KeyStore(const QString &filePath, Backend preferred)
    : m_filePath(filePath)
    , m_backend(keychainCompiledIn() ? preferred : Backend::File)
{
}

bool KeyStore::keychainCompiledIn()
{
#ifdef KEYHOLE_HAVE_QTKEYCHAIN
    return true;
#else
    return false;
#endif
}

QString KeyStore::note() const
{
    if (m_backend == Backend::Keychain)
        return QStringLiteral("Your key is kept in the system keychain.");
    QString note = QStringLiteral("Your key is kept in the file %1, readable only by you.")
                       .arg(QDir::toNativeSeparators(m_filePath));
    if (!m_fallbackReason.isEmpty())
        note += QStringLiteral(" (The system keychain could not be used: %1.)").arg(m_fallbackReason);
    else if (!keychainCompiledIn())
        note += QStringLiteral(" (This build has no system keychain support.)");
    return note;
}

void KeyStore::fallBackToFile(const QString &why)
{
    qCWarning(lcClient, "system keychain unavailable (%s); using the key file %s", qPrintable(why),
              qPrintable(m_filePath));
    m_backend = Backend::File;
    m_fallbackReason = why;
}

KeyStore::Result KeyStore::loadOrCreate()
{
    Result result;
#ifdef KEYHOLE_HAVE_QTKEYCHAIN
    if (m_backend == Backend::Keychain) {
        QKeychain::ReadPasswordJob job(kService);
        job.setKey(kEntry);
        job.setInsecureFallback(false);
        runJob(&job);
        if (job.error() == QKeychain::NoError) {
            QString parseError;
            result.key = crypto::KeyPair::fromPrivatePem(job.binaryData(), &parseError);
            if (!result.key || !result.key->hasPrivateKey()) {
                result.key.reset();
                result.error =
                    QStringLiteral("the key in the system keychain is not a P-256 private key (%1)").arg(parseError);
            }
            return result;
        }
        if (job.error() == QKeychain::EntryNotFound && QFileInfo::exists(m_filePath)) {
            // A key file from keyhole-cli (or an earlier build): keep using it, so the hostname stays.
            m_backend = Backend::File;
        } else if (job.error() == QKeychain::EntryNotFound) {
            std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
            if (!key) {
                result.error = QStringLiteral("could not generate a new key");
                return result;
            }
            QString error;
            if (store(*key, &error)) {
                result.key = std::move(key);
                result.created = true;
                return result;
            }
            fallBackToFile(error);
        } else {
            fallBackToFile(job.errorString());
        }
    }
#endif
    client::KeyFile::Result file = client::KeyFile::loadOrCreate(m_filePath);
    result.key = std::move(file.key);
    result.created = file.created;
    result.error = file.error;
    return result;
}

bool KeyStore::store(const crypto::KeyPair &key, QString *error)
{
    const QByteArray pem = key.privatePem();
    if (pem.isEmpty()) {
        *error = QStringLiteral("the key has no private part");
        return false;
    }
#ifdef KEYHOLE_HAVE_QTKEYCHAIN
    if (m_backend == Backend::Keychain) {
        QKeychain::WritePasswordJob job(kService);
        job.setKey(kEntry);
        job.setInsecureFallback(false);
        job.setBinaryData(pem);
        runJob(&job);
        if (job.error() == QKeychain::NoError)
            return true;
        *error = job.errorString();
        return false;
    }
#endif
    return writeFile(pem, error);
}

bool KeyStore::writeFile(const QByteArray &pem, QString *error) const
{
    return writeOwnerOnly(m_filePath, pem, error);
}

std::optional<crypto::KeyPair> KeyStore::importPem(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    if (file.size() > kMaxPemBytes) {
        *error = QStringLiteral("%1 is too large to be a PEM key").arg(path);
        return std::nullopt;
    }
    QString parseError;
    std::optional<crypto::KeyPair> key = crypto::KeyPair::fromPrivatePem(file.read(kMaxPemBytes), &parseError);
    if (!key || !key->hasPrivateKey()) {
        *error = QStringLiteral("%1 does not hold a P-256 private key in PEM%2")
                     .arg(path, parseError.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(parseError));
        return std::nullopt;
    }
    return key;
}

bool KeyStore::exportPem(const crypto::KeyPair &key, const QString &path, QString *error)
{
    const QByteArray pem = key.privatePem();
    if (pem.isEmpty()) {
        *error = QStringLiteral("the key has no private part");
        return false;
    }
    return writeOwnerOnly(path, pem, error);
}

} // namespace keyhole::tray
