#pragma once

#include <QByteArray>
#include <QFileDevice>
#include <QString>

#include <functional>

namespace keyhole::client {

// Writes a whole file and puts it in place in one step: the bytes go to a new file beside the target,
// created exclusively with its final permissions (never readable by others for a moment, and never a
// file or symlink someone else prepared), which is then renamed over the target. A symlink at the
// target is replaced, not followed. Readers see the old file or the new one, never part of one.
class ReplaceFile
{
public:
    static constexpr auto kOwnerOnly = QFileDevice::ReadOwner | QFileDevice::WriteOwner;

    static bool write(const QString &path, const QByteArray &data, QFileDevice::Permissions permissions,
                      QString *error);

    // For tests: runs with the new file's path once it exists, before any byte is written to it.
    static void setCreatedHookForTests(std::function<void(const QString &path)> hook);
};

} // namespace keyhole::client
