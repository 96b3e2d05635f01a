#pragma once

#include <QMainWindow>

class QLabel;

namespace keyhole::tray {

class AppActions;
class TrayController;

// Shown instead of the tray icon when the desktop has no system tray: the same state and commands
// in a small window. Closing it quits the app (there is nowhere else to reach it).
class MainWindow : public QMainWindow
{
    Q_OBJECT

public:
    MainWindow(TrayController *controller, AppActions *actions, QWidget *parent = nullptr);

    void notify(const QString &title, const QString &message);

private:
    void refresh();

    TrayController *m_controller;
    QLabel *m_icon;
    QLabel *m_state;
};

} // namespace keyhole::tray
