#pragma once

#include <QString>
#include <QStringList>

namespace keyhole::tray {

// Starting the app at login, the way each desktop expects it: an XDG autostart .desktop file on
// Linux, a LaunchAgent plist on macOS, the HKCU Run key on Windows. The only place with
// per-platform code in the tray app.
class Autostart
{
public:
    // `program`: the executable to start (default: this one). `location` overrides where the entry
    // goes (a file path; for tests).
    explicit Autostart(const QString &program = {}, const QStringList &arguments = {}, const QString &location = {});

    bool isEnabled() const;
    bool setEnabled(bool enabled, QString *error = nullptr);
    // The file (or registry key) that holds the entry.
    QString location() const { return m_location; }

private:
    QString entryText() const;

    QString m_program;
    QStringList m_arguments;
    QString m_location;
};

} // namespace keyhole::tray
