#pragma once

#include "AppSettings.h"

#include <QObject>
#include <QPointer>

#include <memory>

class QSettings;

namespace keyhole::tray {

class AppActions;
class Autostart;
class KeyStore;
class KeysDialog;
class MainWindow;
class RequestLogModel;
class RequestLogWindow;
class SettingsDialog;
class TrayController;
class TrayIcon;

void initResources();

// Puts the pieces together: settings, key, controller, tray icon (or the fallback window),
// dialogs and notifications. main() only parses arguments and runs it.
class TrayApplication : public QObject
{
    Q_OBJECT

public:
    struct Options {
        QString settingsFile;     // an INI file instead of the platform's settings store
        QString keyFile;          // a PEM file instead of the keychain
        bool forceWindow = false; // the fallback window even when there is a system tray
    };

    explicit TrayApplication(const Options &options, QObject *parent = nullptr);
    ~TrayApplication() override;

    // Loads settings and key, shows the UI, runs the first-run dialog or starts the tunnel.
    bool initialize(QString *error);

    TrayController *controller() const { return m_controller; }
    TrayIcon *trayIcon() const { return m_trayIcon; }
    RequestLogModel *requestLog() const { return m_log; }

public Q_SLOTS:
    // Another launch asked for us.
    void showYourself();
    void showRequestLog();
    void showSettings();
    void showKeys();
    void askLocalPort();
    void showAbout();
    void quit();

private:
    void notify(const QString &title, const QString &message, bool critical = false);
    void saveSettings();
    void runFirstRun();

    Options m_options;
    std::unique_ptr<QSettings> m_settingsStore;
    std::unique_ptr<KeyStore> m_keyStore;
    std::unique_ptr<Autostart> m_autostart;
    TrayController *m_controller = nullptr;
    AppActions *m_actions = nullptr;
    TrayIcon *m_trayIcon = nullptr;
    MainWindow *m_window = nullptr;
    RequestLogModel *m_log = nullptr;
    QPointer<RequestLogWindow> m_logWindow;
    QPointer<SettingsDialog> m_settingsDialog;
    QPointer<KeysDialog> m_keysDialog;
    bool m_inFirstRun = false;
};

} // namespace keyhole::tray
