#include "AppActions.h"

#include "BrowserLink.h"
#include "TrayController.h"

#include <QAction>
#include <QClipboard>
#include <QGuiApplication>
#include <QIcon>
#include <QLocale>
#include <QUrl>

namespace keyhole::tray {

AppActions::AppActions(TrayController *controller, QObject *parent)
    : QObject(parent)
    , m_controller(controller)
    , m_stateLine(new QAction(this))
    , m_publicUrl(new QAction(this))
    , m_openInBrowser(new QAction(QStringLiteral("Open in browser"), this))
    , m_startStop(new QAction(this))
    , m_finishSetup(new QAction(QStringLiteral("Finish setup…"), this))
    , m_localPort(new QAction(QStringLiteral("Local port…"), this))
    , m_proxyLine(new QAction(this))
    , m_trafficLine(new QAction(this))
    , m_reconnectNow(new QAction(QStringLiteral("Reconnect now"), this))
    , m_openLog(new QAction(QStringLiteral("Open log"), this))
    , m_about(new QAction(QStringLiteral("About Keyhole…"), this))
    , m_requestLog(new QAction(QStringLiteral("Request log…"), this))
    , m_keys(new QAction(QStringLiteral("Keys…"), this))
    , m_settings(new QAction(QStringLiteral("Settings…"), this))
    , m_quit(new QAction(QStringLiteral("Quit"), this))
{
    m_stateLine->setEnabled(false);
    m_proxyLine->setEnabled(false);
    m_trafficLine->setEnabled(false);
    m_about->setMenuRole(QAction::AboutRole);
    connect(m_reconnectNow, &QAction::triggered, m_controller, &TrayController::reconnectNow);
    m_publicUrl->setToolTip(QStringLiteral("Copy the public URL"));
    m_quit->setMenuRole(QAction::QuitRole);

    connect(m_publicUrl, &QAction::triggered, this, [this] {
        const QString url = m_controller->publicUrl();
        if (url.isEmpty())
            return;
        QGuiApplication::clipboard()->setText(url);
        Q_EMIT urlCopied(url);
    });
    connect(m_openInBrowser, &QAction::triggered, this, [this] {
        if (!m_controller->publicUrl().isEmpty())
            BrowserLink::open(QUrl(m_controller->publicUrl(), QUrl::StrictMode));
    });
    connect(m_startStop, &QAction::triggered, this, [this] {
        if (m_controller->isRunning())
            m_controller->stop();
        else
            m_controller->start();
    });
    connect(m_controller, &TrayController::changed, this, &AppActions::refresh);
    refresh();
}

QList<QAction *> AppActions::menuOrder() const
{
    return {m_stateLine,   m_proxyLine, m_trafficLine,  m_publicUrl, m_openInBrowser, nullptr,
            m_finishSetup, m_startStop, m_reconnectNow, m_localPort, nullptr,         m_requestLog,
            m_keys,        m_settings,  nullptr,        m_openLog,   m_about,         m_quit};
}

void AppActions::refresh()
{
    const StatePresentation p = m_controller->presentation();
    m_stateLine->setText(p.stateLine);
    // The state line is disabled (not clickable); keep its icon in colour anyway.
    QIcon icon(p.iconPath);
    icon.addFile(p.iconPath, QSize(), QIcon::Disabled);
    m_stateLine->setIcon(icon);

    const QString url = m_controller->publicUrl();
    const bool online = m_controller->state() == client::ClientState::Online;
    m_publicUrl->setText(url.isEmpty() ? QStringLiteral("No public URL yet") : url + QStringLiteral("  (copy)"));
    m_publicUrl->setEnabled(!url.isEmpty());
    m_openInBrowser->setEnabled(online && !url.isEmpty());
    m_startStop->setText(m_controller->isRunning() ? QStringLiteral("Stop tunnel") : QStringLiteral("Start tunnel"));
    const bool setupDone = m_controller->settings().firstRunDone;
    m_finishSetup->setVisible(!setupDone);
    m_startStop->setVisible(setupDone || m_controller->isRunning());
    m_localPort->setText(QStringLiteral("Local port %1…").arg(m_controller->settings().targetPort));
    m_reconnectNow->setEnabled(m_controller->state() == client::ClientState::WaitingToReconnect);

    const QUrl proxy = m_controller->settings().proxyUrl;
    const QString proxyName = proxy.port() > 0 ? QStringLiteral("%1:%2").arg(proxy.host()).arg(proxy.port())
                                               : proxy.host();
    m_proxyLine->setText(online ? QStringLiteral("Connected to %1").arg(proxyName)
                                : QStringLiteral("Proxy: %1").arg(proxyName));
    m_trafficLine->setText(
        QStringLiteral("%1 %2, %3 out, %4 in")
            .arg(m_controller->requestCount())
            .arg(m_controller->requestCount() == 1 ? QStringLiteral("request") : QStringLiteral("requests"))
            .arg(QLocale::system().formattedDataSize(m_controller->bytesOut()),
                 QLocale::system().formattedDataSize(m_controller->bytesIn())));
}

} // namespace keyhole::tray
