#pragma once

#include "crypto/KeyPair.h"

#include <QString>

#include <optional>

namespace keyhole::tray {

// Where the tray app keeps its private key: the system keychain through QtKeychain when the build
// has it and the keychain answers, else an owner-only PEM file (the same format keyhole-cli uses).
// note() tells the user which one, since that decides how the key is protected.
class KeyStore
{
public:
    enum class Backend { Keychain, File };

    struct Result {
        std::optional<crypto::KeyPair> key;
        bool created = false;
        QString error;
        explicit operator bool() const { return key.has_value(); }
    };

    // `filePath`: the PEM file for the File backend (and the fallback when the keychain fails).
    explicit KeyStore(const QString &filePath, Backend preferred = defaultBackend());

    static bool keychainCompiledIn();
    static Backend defaultBackend() { return keychainCompiledIn() ? Backend::Keychain : Backend::File; }

    Backend backend() const { return m_backend; }
    QString filePath() const { return m_filePath; }
    // One sentence for the Keys dialog: where the key lives and how it is protected.
    QString note() const;

    // The stored key, or a new one (stored) on first use. An unreadable stored key is an error and
    // is never replaced behind the user's back.
    Result loadOrCreate();
    // Replaces the stored key (new key or import).
    bool store(const crypto::KeyPair &key, QString *error);

    // Helpers for import/export. exportPem writes with owner-only permissions.
    static std::optional<crypto::KeyPair> importPem(const QString &path, QString *error);
    static bool exportPem(const crypto::KeyPair &key, const QString &path, QString *error);

private:
    void fallBackToFile(const QString &why);
    bool writeFile(const QByteArray &pem, QString *error) const;

    QString m_filePath;
    Backend m_backend;
    QString m_fallbackReason;
};

} // namespace keyhole::tray
