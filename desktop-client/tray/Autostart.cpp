#include "Autostart.h"

#include <QCoreApplication>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QSaveFile>
#include <QStandardPaths>

#ifdef Q_OS_WIN
#include <QSettings>
#endif

namespace keyhole::tray {

namespace {

#ifdef Q_OS_WIN
const QString kRunKey = QStringLiteral("HKEY_CURRENT_USER\\Software\\Microsoft\\Windows\\CurrentVersion\\Run");
const QString kRunValue = QStringLiteral("Keyhole");
#endif

#if defined(Q_OS_MACOS)
QString xmlEscaped(const QString &text)
{
    return text.toHtmlEscaped();
}
#elif !defined(Q_OS_WIN)
// Desktop Entry Exec quoting: arguments with special characters in double quotes, with `"`, `` ` ``,
// `$` and `\` escaped.
QString execQuoted(const QString &argument)
{
    static const QString special = QStringLiteral(" \t\n\"'\\><~|&;$*?#()`");
    bool needsQuotes = argument.isEmpty();
    for (const QChar c : argument)
        needsQuotes = needsQuotes || special.contains(c);
    if (!needsQuotes)
        return argument;
    QString quoted;
    for (const QChar c : argument) {
        if (c == QLatin1Char('"') || c == QLatin1Char('`') || c == QLatin1Char('$') || c == QLatin1Char('\\'))
            quoted += QLatin1Char('\\');
        quoted += c;
    }
    return QLatin1Char('"') + quoted + QLatin1Char('"');
}
#endif

} // namespace

Autostart::Autostart(const QString &program, const QStringList &arguments, const QString &location)
    : m_program(program.isEmpty() ? QCoreApplication::applicationFilePath() : program)
    , m_arguments(arguments)
    , m_location(location)
{
    if (!m_location.isEmpty())
        return;
#if defined(Q_OS_WIN)
    m_location = kRunKey;
#elif defined(Q_OS_MACOS)
    m_location = QDir::homePath() + QStringLiteral("/Library/LaunchAgents/org.keyhole.tray.plist");
#else
    m_location = QStandardPaths::writableLocation(QStandardPaths::GenericConfigLocation)
        + QStringLiteral("/autostart/keyhole.desktop");
#endif
}

QString Autostart::entryText() const
{
#if defined(Q_OS_WIN)
    QString command = QLatin1Char('"') + QDir::toNativeSeparators(m_program) + QLatin1Char('"');
    for (const QString &argument : m_arguments)
        command += QStringLiteral(" \"") + argument + QLatin1Char('"');
    return command;
#elif defined(Q_OS_MACOS)
    QString arguments = QStringLiteral("    <string>%1</string>\n").arg(xmlEscaped(m_program));
    for (const QString &argument : m_arguments)
        arguments += QStringLiteral("    <string>%1</string>\n").arg(xmlEscaped(argument));
    return QStringLiteral("<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
                          "<!DOCTYPE plist PUBLIC \"-//Apple//DTD PLIST 1.0//EN\" "
                          "\"http://www.apple.com/DTDs/PropertyList-1.0.dtd\">\n"
                          "<plist version=\"1.0\">\n<dict>\n"
                          "  <key>Label</key>\n  <string>org.keyhole.tray</string>\n"
                          "  <key>ProgramArguments</key>\n  <array>\n%1  </array>\n"
                          "  <key>RunAtLoad</key>\n  <true/>\n"
                          "</dict>\n</plist>\n")
        .arg(arguments);
#else
    QString exec = execQuoted(m_program);
    for (const QString &argument : m_arguments)
        exec += QLatin1Char(' ') + execQuoted(argument);
    return QStringLiteral("[Desktop Entry]\n"
                          "Type=Application\n"
                          "Name=Keyhole\n"
                          "Comment=Expose a local web service through a keyhole proxy\n"
                          "Exec=%1\n"
                          "Icon=keyhole\n"
                          "Terminal=false\n"
                          "X-GNOME-Autostart-enabled=true\n")
        .arg(exec);
#endif
}

bool Autostart::isEnabled() const
{
#ifdef Q_OS_WIN
    QSettings run(m_location, QSettings::NativeFormat);
    return run.contains(kRunValue);
#else
    return QFileInfo::exists(m_location);
#endif
}

bool Autostart::setEnabled(bool enabled, QString *error)
{
    QString ignored;
    QString &why = error ? *error : ignored;
#ifdef Q_OS_WIN
    QSettings run(m_location, QSettings::NativeFormat);
    if (enabled)
        run.setValue(kRunValue, entryText());
    else
        run.remove(kRunValue);
    run.sync();
    if (run.status() != QSettings::NoError) {
        why = QStringLiteral("cannot change the registry key %1").arg(m_location);
        return false;
    }
    return true;
#else
    if (!enabled) {
        if (QFileInfo::exists(m_location) && !QFile::remove(m_location)) {
            why = QStringLiteral("cannot remove %1").arg(m_location);
            return false;
        }
        return true;
    }
    if (!QDir().mkpath(QFileInfo(m_location).absolutePath())) {
        why = QStringLiteral("cannot create the folder of %1").arg(m_location);
        return false;
    }
    QSaveFile file(m_location);
    const QByteArray text = entryText().toUtf8();
    if (!file.open(QIODevice::WriteOnly) || file.write(text) != text.size() || !file.commit()) {
        why = QStringLiteral("cannot write %1: %2").arg(m_location, file.errorString());
        return false;
    }
    return true;
#endif
}

} // namespace keyhole::tray
