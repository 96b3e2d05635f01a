#pragma once

#include <QObject>
#include <QSystemTrayIcon>

class QMenu;

namespace keyhole::tray {

class AppActions;
class TrayController;

// The icon in the system tray: state icon and tooltip from StatePresentation, the menu of
// AppActions, and balloon notifications.
class TrayIcon : public QObject
{
    Q_OBJECT

public:
    TrayIcon(TrayController *controller, AppActions *actions, QObject *parent = nullptr);
    ~TrayIcon() override;

    void show();
    void notify(const QString &title, const QString &message,
                QSystemTrayIcon::MessageIcon icon = QSystemTrayIcon::Information);
    QMenu *menu() const { return m_menu; }
    QSystemTrayIcon *systemTrayIcon() const { return m_icon; }

private:
    void refresh();

    TrayController *m_controller;
    QMenu *m_menu;
    QSystemTrayIcon *m_icon;
};

} // namespace keyhole::tray
