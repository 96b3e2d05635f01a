#pragma once

#include "AppSettings.h"
#include "crypto/KeyPair.h"

#include <QDialog>

class QCheckBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace keyhole::tray {

// The first start: shows the hostname the new key will get, asks for the proxy URL and the local
// port, and starts the tunnel when the user clicks Start (the caller applies settings()).
class FirstRunDialog : public QDialog
{
    Q_OBJECT

public:
    FirstRunDialog(const AppSettings &settings, const crypto::KeyPair &key, QWidget *parent = nullptr);

    AppSettings settings() const;
    // "<label>.<proxy host>" for the proxy URL as typed.
    QString hostname() const;
    // Ports whose usual server refuses a Host it does not know (Vite, Angular CLI): the dialog offers
    // the Host rewrite already ticked there.
    static bool isHostCheckingDevServerPort(int port);

private:
    void refresh();

    AppSettings m_settings;
    QString m_label;
    QLineEdit *m_hostname;
    QLineEdit *m_proxyUrl;
    QSpinBox *m_port;
    QCheckBox *m_rewriteHost;
    bool m_rewriteChosen = false;
    QLabel *m_problem;
    QDialogButtonBox *m_buttons;
};

} // namespace keyhole::tray
