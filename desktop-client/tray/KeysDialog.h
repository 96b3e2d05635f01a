#pragma once

#include "crypto/KeyPair.h"

#include <QDialog>

class QLabel;

namespace keyhole::tray {

class KeyStore;
class TrayController;

// The key behind the hostname: shows label and hostname and where the key is kept; generates a new
// key (a new hostname, after a warning), imports and exports PEM (export warns that the file is the
// hostname). The buttons ask; the public functions do the work without asking (tests call them).
class KeysDialog : public QDialog
{
    Q_OBJECT

public:
    KeysDialog(TrayController *controller, KeyStore *store, QWidget *parent = nullptr);

    bool generateNewKey(QString *error);
    bool importFrom(const QString &path, QString *error);
    bool exportTo(const QString &path, QString *error);

    QString labelText() const;
    QString hostnameText() const;

private:
    bool replaceKey(crypto::KeyPair key, QString *error);
    // Asks before a key with another hostname replaces the current one, naming both hostnames.
    bool confirmNewHostname(const crypto::KeyPair &key, const QString &title, const QString &loss);
    void onGenerate();
    void onImport();
    void onExport();
    void refresh();

    TrayController *m_controller;
    KeyStore *m_store;
    QLabel *m_label;
    QLabel *m_hostname;
    QLabel *m_note;
};

} // namespace keyhole::tray
