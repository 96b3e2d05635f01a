// keyhole: the desktop tray app. Everything lives in keyhole_tray; this only parses arguments.
#include "AppLog.h"
#include "SingleInstance.h"
#include "TrayApplication.h"
#include "ClientLogging.h"
#include "util/Logging.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QDir>
#include <QFileInfo>
#include <QMessageBox>

using namespace keyhole;

int main(int argc, char *argv[])
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("keyhole"));
    QApplication::setOrganizationName(QStringLiteral("keyhole"));
    QApplication::setApplicationDisplayName(QStringLiteral("Keyhole"));
    QApplication::setApplicationVersion(QStringLiteral(KEYHOLE_VERSION));
    QApplication::setDesktopFileName(QStringLiteral("keyhole"));
    util::installLogFormat(util::LogFormat::Text);

    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Keyhole tray app: exposes a local web service through a keyhole proxy."));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption settingsOption(
        QStringLiteral("settings"), QStringLiteral("Use this INI file for the settings."), QStringLiteral("FILE"));
    const QCommandLineOption keyOption(QStringLiteral("key"),
                                       QStringLiteral("Use this PEM key file instead of the system keychain."),
                                       QStringLiteral("FILE"));
    const QCommandLineOption windowOption(QStringLiteral("window"),
                                          QStringLiteral("Show a window instead of a tray icon."));
    parser.addOptions({settingsOption, keyOption, windowOption});
    parser.process(app);

    // One instance per profile: another --settings/--key runs beside the default one.
    tray::SingleInstance instance(
        tray::SingleInstance::nameForProfile(parser.value(settingsOption), parser.value(keyOption)));
    if (!instance.claim()) {
        if (!instance.errorString().isEmpty())
            qCWarning(lcClient, "single-instance check failed: %s", qPrintable(instance.errorString()));
        else
            return 0; // the running instance shows itself
    }

    // The log file goes beside a profile's own settings file, so two profiles do not share one.
    const QString settingsFile = parser.value(settingsOption);
    const QString logFile = settingsFile.isEmpty()
        ? tray::AppLog::defaultPath()
        : QFileInfo(settingsFile)
              .absoluteDir()
              .filePath(QFileInfo(settingsFile).completeBaseName() + QStringLiteral(".log"));
    QString logError;
    if (!tray::AppLog::install(logFile, tray::AppLog::kDefaultMaxBytes, &logError))
        qCWarning(lcClient, "%s", qPrintable(logError));

    tray::TrayApplication::Options options;
    options.settingsFile = parser.value(settingsOption);
    options.keyFile = parser.value(keyOption);
    options.forceWindow = parser.isSet(windowOption);
    tray::TrayApplication trayApp(options);
    QObject::connect(&instance, &tray::SingleInstance::showRequested, &trayApp, &tray::TrayApplication::showYourself);
    QString error;
    if (!trayApp.initialize(&error)) {
        QMessageBox::critical(nullptr, QStringLiteral("Keyhole"),
                              QStringLiteral("Keyhole cannot start: %1").arg(error));
        return 1;
    }
    return app.exec();
}
