#include "TrayApplication.h"

#include "AppActions.h"
#include "AppLog.h"
#include "Autostart.h"
#include "FirstRunDialog.h"
#include "KeyStore.h"
#include "KeysDialog.h"
#include "MainWindow.h"
#include "RequestLogModel.h"
#include "RequestLogWindow.h"
#include "SettingsDialog.h"
#include "TrayController.h"
#include "TrayIcon.h"
#include "TunnelClient.h"

#include <QAction>
#include <QApplication>
#include <QDesktopServices>
#include <QInputDialog>
#include <QMessageBox>
#include <QUrl>
#include <QMenu>
#include <QSettings>
#include <QTimer>

// Q_INIT_RESOURCE must be used outside any namespace; the resources live in a static library,
// whose registration the linker would otherwise drop.
static void initKeyholeResources()
{
    Q_INIT_RESOURCE(keyhole);
}

namespace keyhole::tray {

namespace {

constexpr int kQuitGraceMs = 2000;

// The core describes problems in log style ("the local service at ... refused"); a notification
// starts them as a sentence.
QString asSentence(QString text)
{
    if (!text.isEmpty())
        text[0] = text.at(0).toUpper();
    return text;
}

} // namespace

void initResources()
{
    initKeyholeResources();
}

TrayApplication::TrayApplication(const Options &options, QObject *parent)
    : QObject(parent)
    , m_options(options)
{
    initResources();
}

TrayApplication::~TrayApplication()
{
    delete m_logWindow;
    delete m_settingsDialog;
    delete m_keysDialog;
    delete m_window;
}

bool TrayApplication::initialize(QString *error)
{
    m_settingsStore = m_options.settingsFile.isEmpty()
        ? std::make_unique<QSettings>()
        : std::make_unique<QSettings>(m_options.settingsFile, QSettings::IniFormat);
    const AppSettings settings = AppSettings::load(*m_settingsStore);

    const QString keyPath = m_options.keyFile.isEmpty() ? client::ClientSettings::defaultKeyPath() : m_options.keyFile;
    m_keyStore = std::make_unique<KeyStore>(
        keyPath, m_options.keyFile.isEmpty() ? KeyStore::defaultBackend() : KeyStore::Backend::File);
    KeyStore::Result key = m_keyStore->loadOrCreate();
    if (!key) {
        *error = key.error;
        return false;
    }

    m_controller = new TrayController(settings, std::move(*key.key), keyPath, this);
    m_autostart = std::make_unique<Autostart>();
    m_controller->setAutostart(m_autostart.get());
    m_log = new RequestLogModel(RequestLogModel::kDefaultCapacity, this);
    connect(m_controller, &TrayController::requestFinished, m_log, &RequestLogModel::add);

    m_actions = new AppActions(m_controller, this);
    connect(m_actions->localPort(), &QAction::triggered, this, &TrayApplication::askLocalPort);
    connect(m_actions->requestLog(), &QAction::triggered, this, &TrayApplication::showRequestLog);
    connect(m_actions->finishSetup(), &QAction::triggered, this, &TrayApplication::runFirstRun);
    connect(m_actions->about(), &QAction::triggered, this, &TrayApplication::showAbout);
    connect(m_actions->openLog(), &QAction::triggered, this, [this] {
        // Our own file, so not through BrowserLink (which opens only the proxy's http(s) URLs).
        const QString path = AppLog::path();
        if (path.isEmpty() || !QDesktopServices::openUrl(QUrl::fromLocalFile(path)))
            notify(QStringLiteral("Keyhole"),
                   path.isEmpty() ? QStringLiteral("No log file is being written.")
                                  : QStringLiteral("Could not open the log; it is at %1").arg(path),
                   true);
    });
    connect(m_actions->keys(), &QAction::triggered, this, &TrayApplication::showKeys);
    connect(m_actions->settings(), &QAction::triggered, this, &TrayApplication::showSettings);
    connect(m_actions->quit(), &QAction::triggered, this, &TrayApplication::quit);
    connect(m_actions, &AppActions::urlCopied, this,
            [this](const QString &url) { notify(QStringLiteral("Copied"), url); });

    connect(m_controller, &TrayController::wentOnline, this,
            [this](const QString &url) { notify(QStringLiteral("Tunnel online"), url); });
    connect(m_controller, &TrayController::lastingProblem, this,
            [this](const QString &sentence, const QString &advice) { notify(sentence, advice, true); });
    connect(m_controller, &TrayController::connectionLost, this, [this](const QString &why) {
        if (m_controller->tunnel()->connectionProblem().isLasting())
            return; // lastingProblem() said it, with what to do
        notify(QStringLiteral("Connection lost"),
               why.isEmpty() ? QStringLiteral("Reconnecting…") : QStringLiteral("Reconnecting… (%1)").arg(why));
    });
    connect(m_controller, &TrayController::refused, this, [this](const QString &reason) {
        notify(QStringLiteral("Registration refused"),
               QStringLiteral("%1. Ask the proxy's operator to allow this key (Keys… shows it), then start "
                              "the tunnel again.")
                   .arg(reason),
               true);
    });
    connect(m_controller, &TrayController::replaced, this, [this] {
        notify(QStringLiteral("Tunnel taken over"),
               QStringLiteral("Another client with the same key took this tunnel; start it again to take it back."),
               true);
    });
    connect(m_controller, &TrayController::localServiceDown, this, [this](const QString &problem) {
        notify(
            m_controller->presentation().stateLine,
            QStringLiteral("%1. Visitors get an error page until it answers; is it running?").arg(asSentence(problem)),
            true);
    });
    connect(m_controller, &TrayController::hostRefused, this, [this](const QString &description) {
        notify(QStringLiteral("The local service refuses the public hostname"),
               QStringLiteral("%1. Fix: Settings → Host header → Rewrite, so it sees its own host:port.")
                   .arg(asSentence(description)),
               true);
    });
    connect(m_controller, &TrayController::warning, this,
            [this](const QString &message) { notify(QStringLiteral("Keyhole"), message, true); });

    if (!m_options.forceWindow && QSystemTrayIcon::isSystemTrayAvailable()) {
        QApplication::setQuitOnLastWindowClosed(false);
        m_trayIcon = new TrayIcon(m_controller, m_actions, this);
        m_trayIcon->show();
    } else {
        // Without a tray the window is the app: closing it quits.
        m_window = new MainWindow(m_controller, m_actions);
        m_window->setAttribute(Qt::WA_DeleteOnClose, false);
        m_window->show();
        connect(qApp, &QApplication::lastWindowClosed, this, &TrayApplication::quit);
    }

    if (!settings.firstRunDone)
        QTimer::singleShot(0, this, &TrayApplication::runFirstRun);
    else if (settings.startTunnelOnLaunch)
        m_controller->start();
    return true;
}

void TrayApplication::runFirstRun()
{
    if (m_inFirstRun)
        return; // the dialog is already open (Finish setup… clicked again)
    KeyStore::Result key = m_keyStore->loadOrCreate();
    if (!key)
        return;
    FirstRunDialog dialog(m_controller->settings(), *key.key);
    m_inFirstRun = true;
    const int result = dialog.exec();
    m_inFirstRun = false;
    // Cancelled: nothing is saved and nothing starts; the menu offers "Finish setup…" instead.
    if (result != QDialog::Accepted)
        return;
    const QString problem = m_controller->applySettings(dialog.settings());
    if (!problem.isEmpty()) {
        notify(QStringLiteral("Keyhole"), problem, true);
        return;
    }
    saveSettings();
    m_controller->start();
}

void TrayApplication::showAbout()
{
    const QString log = AppLog::path();
    QMessageBox::about(m_window, QStringLiteral("About Keyhole"),
                       QStringLiteral("<b>Keyhole %1</b><p>Makes a web service on this computer reachable through "
                                      "a keyhole proxy.</p><p>Qt %2</p>%3")
                           .arg(QApplication::applicationVersion().toHtmlEscaped(), QString::fromLatin1(qVersion()),
                                log.isEmpty() ? QString() : QStringLiteral("<p>Log: %1</p>").arg(log.toHtmlEscaped())));
}

void TrayApplication::notify(const QString &title, const QString &message, bool critical)
{
    if (m_trayIcon)
        m_trayIcon->notify(title, message, critical ? QSystemTrayIcon::Critical : QSystemTrayIcon::Information);
    else if (m_window)
        m_window->notify(title, message);
}

void TrayApplication::saveSettings()
{
    m_controller->settings().save(*m_settingsStore);
}

void TrayApplication::showYourself()
{
    if (m_window) {
        // Minimised: restore it; show() alone leaves it in the task bar.
        m_window->setWindowState((m_window->windowState() & ~Qt::WindowMinimized) | Qt::WindowActive);
        m_window->show();
        m_window->raise();
        m_window->activateWindow();
        return;
    }
    const StatePresentation p = m_controller->presentation();
    const QString url = m_controller->publicUrl();
    notify(QStringLiteral("Keyhole is already running"),
           url.isEmpty() ? p.stateLine : p.stateLine + QLatin1Char('\n') + url);
    const QRect where = m_trayIcon->systemTrayIcon()->geometry();
    if (where.isValid())
        m_trayIcon->menu()->popup(where.bottomLeft());
}

void TrayApplication::showRequestLog()
{
    if (!m_logWindow) {
        m_logWindow = new RequestLogWindow(m_log, m_controller);
        m_logWindow->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_logWindow->show();
    m_logWindow->raise();
    m_logWindow->activateWindow();
}

void TrayApplication::showSettings()
{
    if (!m_settingsDialog) {
        m_settingsDialog = new SettingsDialog(m_controller);
        m_settingsDialog->setAttribute(Qt::WA_DeleteOnClose);
        connect(m_settingsDialog, &SettingsDialog::applied, this, &TrayApplication::saveSettings);
    }
    m_settingsDialog->show();
    m_settingsDialog->raise();
    m_settingsDialog->activateWindow();
}

void TrayApplication::showKeys()
{
    if (!m_keysDialog) {
        m_keysDialog = new KeysDialog(m_controller, m_keyStore.get());
        m_keysDialog->setAttribute(Qt::WA_DeleteOnClose);
    }
    m_keysDialog->show();
    m_keysDialog->raise();
    m_keysDialog->activateWindow();
}

void TrayApplication::askLocalPort()
{
    bool ok = false;
    const int port = QInputDialog::getInt(m_window, QStringLiteral("Local port"),
                                          QStringLiteral("Port of the local web service:"),
                                          m_controller->settings().targetPort, 1, 65535, 1, &ok);
    if (!ok)
        return;
    if (const QString problem = m_controller->setLocalPort(port); !problem.isEmpty()) {
        notify(QStringLiteral("Local port"), problem, true);
        return;
    }
    saveSettings();
}

void TrayApplication::quit()
{
    // Say Goodbye so the proxy frees the hostname at once, but do not hang on a dead connection.
    connect(m_controller->tunnel(), &client::TunnelClient::stopped, qApp, &QCoreApplication::quit);
    QTimer::singleShot(kQuitGraceMs, qApp, &QCoreApplication::quit);
    m_controller->stop();
}

} // namespace keyhole::tray
