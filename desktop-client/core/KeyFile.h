#pragma once

#include "crypto/KeyPair.h"

#include <QString>

#include <optional>

namespace keyhole::client {

// The client's identity on disk: one P-256 private key in PEM. Created on first run with owner-only
// permissions; an existing file that cannot be read or parsed is an error and is never overwritten
// (it may be the only copy of a key whose hostname people already use).
class KeyFile
{
public:
    struct Result {
        std::optional<crypto::KeyPair> key;
        bool created = false; // a new key was generated and written
        QString error;        // set when key is empty

        explicit operator bool() const { return key.has_value(); }
    };

    static Result load(const QString &path);
    static Result loadOrCreate(const QString &path);
    // Writes PEM owner-only (0600 from the first byte on), creating the folder; atomic replace.
    static bool save(const QString &path, const QByteArray &pem, QString *error);
};

} // namespace keyhole::client
