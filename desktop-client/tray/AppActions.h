#pragma once

#include <QList>
#include <QObject>

class QAction;

namespace keyhole::tray {

class TrayController;

// The app's commands as QActions, shared by the tray menu and the fallback window so both show the
// same state and stay in step. Actions that open windows only emit triggered(); TrayApplication
// connects them.
class AppActions : public QObject
{
    Q_OBJECT

public:
    explicit AppActions(TrayController *controller, QObject *parent = nullptr);

    QAction *stateLine() const { return m_stateLine; }
    QAction *publicUrl() const { return m_publicUrl; } // click copies the URL
    QAction *openInBrowser() const { return m_openInBrowser; }
    QAction *startStop() const { return m_startStop; }
    QAction *localPort() const { return m_localPort; }
    QAction *requestLog() const { return m_requestLog; }
    QAction *keys() const { return m_keys; }
    QAction *settings() const { return m_settings; }
    QAction *quit() const { return m_quit; }
    // Menu order; nullptr stands for a separator.
    QList<QAction *> menuOrder() const;

Q_SIGNALS:
    void urlCopied(const QString &url);

private:
    void refresh();

    TrayController *m_controller;
    QAction *m_stateLine;
    QAction *m_publicUrl;
    QAction *m_openInBrowser;
    QAction *m_startStop;
    QAction *m_localPort;
    QAction *m_requestLog;
    QAction *m_keys;
    QAction *m_settings;
    QAction *m_quit;
};

} // namespace keyhole::tray
