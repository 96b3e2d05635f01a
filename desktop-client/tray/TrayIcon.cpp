#include "TrayIcon.h"

#include "AppActions.h"
#include "TrayController.h"

#include <QCursor>
#include <QIcon>
#include <QMenu>

namespace keyhole::tray {

TrayIcon::TrayIcon(TrayController *controller, AppActions *actions, QObject *parent)
    : QObject(parent)
    , m_controller(controller)
    , m_menu(new QMenu)
    , m_icon(new QSystemTrayIcon(this))
{
    for (QAction *action : actions->menuOrder()) {
        if (action)
            m_menu->addAction(action);
        else
            m_menu->addSeparator();
    }
    m_icon->setContextMenu(m_menu);
    // A left click opens the menu too: the menu is the whole UI.
    connect(m_icon, &QSystemTrayIcon::activated, this, [this](QSystemTrayIcon::ActivationReason reason) {
        if (reason == QSystemTrayIcon::Trigger)
            m_menu->popup(QCursor::pos());
    });
    connect(m_controller, &TrayController::changed, this, &TrayIcon::refresh);
    refresh();
}

TrayIcon::~TrayIcon()
{
    delete m_menu; // a context menu has no parent
}

void TrayIcon::show()
{
    m_icon->show();
}

void TrayIcon::notify(const QString &title, const QString &message, QSystemTrayIcon::MessageIcon icon)
{
    m_icon->showMessage(title, message, icon);
}

void TrayIcon::refresh()
{
    const StatePresentation p = m_controller->presentation();
    m_icon->setIcon(QIcon(p.iconPath));
    m_icon->setToolTip(p.toolTip);
}

} // namespace keyhole::tray
