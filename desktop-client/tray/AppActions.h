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
    // Shown instead of Start while the first-run dialog was never completed: starting then would dial
    // a proxy the user never chose.
    QAction *finishSetup() const { return m_finishSetup; }
    QAction *localPort() const { return m_localPort; }
    QAction *proxyLine() const { return m_proxyLine; }       // "Proxy: tunnel.example.com" (not clickable)
    QAction *trafficLine() const { return m_trafficLine; }   // "12 requests, 3.4 MB out, 20 KB in"
    QAction *reconnectNow() const { return m_reconnectNow; } // skips the backoff wait
    QAction *openLog() const { return m_openLog; }
    QAction *about() const { return m_about; }
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
    QAction *m_finishSetup;
    QAction *m_localPort;
    QAction *m_proxyLine;
    QAction *m_trafficLine;
    QAction *m_reconnectNow;
    QAction *m_openLog;
    QAction *m_about;
    QAction *m_requestLog;
    QAction *m_keys;
    QAction *m_settings;
    QAction *m_quit;
};

} // namespace keyhole::tray
