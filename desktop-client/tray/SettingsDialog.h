#pragma once

#include "AppSettings.h"

#include <QDialog>

class QCheckBox;
class QComboBox;
class QDialogButtonBox;
class QLabel;
class QLineEdit;
class QSpinBox;

namespace keyhole::tray {

class TrayController;

// Edits a copy of the controller's settings, says what is wrong while the user types (OK stays
// disabled until the settings are usable) and applies them to the controller on OK.
class SettingsDialog : public QDialog
{
    Q_OBJECT

public:
    explicit SettingsDialog(TrayController *controller, QWidget *parent = nullptr);

    // The edited copy, as it stands.
    AppSettings editedSettings() const;
    // Empty when the edited settings are usable.
    QString problem() const;

    void accept() override;

Q_SIGNALS:
    // After OK applied them.
    void applied(const keyhole::tray::AppSettings &settings);

private:
    void revalidate();

    TrayController *m_controller;
    AppSettings m_original;
    QLineEdit *m_proxyUrl;
    QComboBox *m_targetScheme;
    QLineEdit *m_targetHost;
    QSpinBox *m_targetPort;
    QLineEdit *m_name;
    QLineEdit *m_caFile;
    QComboBox *m_hostHeaderMode;
    QLineEdit *m_hostHeaderValue;
    QLabel *m_urlChange;
    QCheckBox *m_startTunnel;
    QCheckBox *m_startAtLogin;
    QLabel *m_problem;
    QDialogButtonBox *m_buttons;
};

} // namespace keyhole::tray
