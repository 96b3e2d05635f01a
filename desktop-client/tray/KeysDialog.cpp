#include "KeysDialog.h"

#include "KeyStore.h"
#include "TrayController.h"
#include "TunnelHostname.h"

#include <QDialogButtonBox>
#include <QDir>
#include <QFileDialog>
#include <QFormLayout>
#include <QLabel>
#include <QMessageBox>
#include <QPushButton>
#include <QUrl>
#include <QVBoxLayout>

namespace keyhole::tray {

KeysDialog::KeysDialog(TrayController *controller, KeyStore *store, QWidget *parent)
    : QDialog(parent)
    , m_controller(controller)
    , m_store(store)
    , m_label(new QLabel)
    , m_hostname(new QLabel)
    , m_note(new QLabel)
{
    setWindowTitle(QStringLiteral("Keyhole Keys"));
    m_label->setObjectName(QStringLiteral("label"));
    m_label->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_hostname->setObjectName(QStringLiteral("hostname"));
    m_hostname->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_note->setObjectName(QStringLiteral("note"));
    m_note->setWordWrap(true);

    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Label:"), m_label);
    form->addRow(QStringLiteral("Hostname:"), m_hostname);

    auto *buttons = new QDialogButtonBox(QDialogButtonBox::Close);
    auto *generate = buttons->addButton(QStringLiteral("Generate new key…"), QDialogButtonBox::ActionRole);
    auto *import = buttons->addButton(QStringLiteral("Import PEM…"), QDialogButtonBox::ActionRole);
    auto *exportButton = buttons->addButton(QStringLiteral("Export PEM…"), QDialogButtonBox::ActionRole);
    connect(generate, &QPushButton::clicked, this, &KeysDialog::onGenerate);
    connect(import, &QPushButton::clicked, this, &KeysDialog::onImport);
    connect(exportButton, &QPushButton::clicked, this, &KeysDialog::onExport);
    connect(buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_note);
    layout->addWidget(buttons);

    connect(m_controller, &TrayController::changed, this, &KeysDialog::refresh);
    refresh();
}

QString KeysDialog::labelText() const
{
    return m_label->text();
}

QString KeysDialog::hostnameText() const
{
    return m_hostname->text();
}

void KeysDialog::refresh()
{
    m_label->setText(m_controller->label());
    m_hostname->setText(m_controller->hostname());
    m_note->setText(m_store->note());
}

bool KeysDialog::replaceKey(crypto::KeyPair key, QString *error)
{
    if (!m_store->store(key, error))
        return false;
    m_controller->setKey(std::move(key));
    refresh();
    return true;
}

bool KeysDialog::generateNewKey(QString *error)
{
    std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
    if (!key) {
        *error = QStringLiteral("could not generate a new key");
        return false;
    }
    return replaceKey(std::move(*key), error);
}

bool KeysDialog::importFrom(const QString &path, QString *error)
{
    std::optional<crypto::KeyPair> key = KeyStore::importPem(path, error);
    return key && replaceKey(std::move(*key), error);
}

bool KeysDialog::exportTo(const QString &path, QString *error)
{
    KeyStore::Result current = m_store->loadOrCreate();
    if (!current) {
        *error = current.error;
        return false;
    }
    return KeyStore::exportPem(*current.key, path, error);
}

bool KeysDialog::confirmNewHostname(const crypto::KeyPair &key, const QString &title, const QString &loss)
{
    const AppSettings &settings = m_controller->settings();
    const QString newHostname = client::TunnelHostname::predict(key, settings.name, settings.proxyUrl);
    if (newHostname == hostnameText())
        return true; // the same key again: nothing changes for visitors
    const auto answer = QMessageBox::warning(
        this, title,
        QStringLiteral("A new key gets a new hostname: links to %1 stop working, and the tunnel will be at %2.%3"
                       "\n\nReplace the key?")
            .arg(hostnameText(), newHostname, loss),
        QMessageBox::Yes | QMessageBox::Cancel, QMessageBox::Cancel);
    return answer == QMessageBox::Yes;
}

void KeysDialog::onGenerate()
{
    std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
    if (!key) {
        QMessageBox::critical(this, QStringLiteral("New key"), QStringLiteral("Could not generate a new key."));
        return;
    }
    if (!confirmNewHostname(*key, QStringLiteral("Generate a new key?"),
                            QStringLiteral(" The current key is gone unless you exported it.")))
        return;
    QString error;
    if (!replaceKey(std::move(*key), &error))
        QMessageBox::critical(this, QStringLiteral("New key"),
                              QStringLiteral("Could not replace the key: %1").arg(error));
}

void KeysDialog::onImport()
{
    const QString path = QFileDialog::getOpenFileName(this, QStringLiteral("Import key"), QDir::homePath(),
                                                      QStringLiteral("PEM keys (*.pem *.key);;All files (*)"));
    if (path.isEmpty())
        return;
    QString error;
    std::optional<crypto::KeyPair> key = KeyStore::importPem(path, &error);
    if (!key) {
        QMessageBox::critical(this, QStringLiteral("Import key"), QStringLiteral("Could not import: %1").arg(error));
        return;
    }
    if (!confirmNewHostname(*key, QStringLiteral("Import this key?"), QString()))
        return;
    if (!replaceKey(std::move(*key), &error))
        QMessageBox::critical(this, QStringLiteral("Import key"), QStringLiteral("Could not import: %1").arg(error));
}

void KeysDialog::onExport()
{
    const auto answer = QMessageBox::warning(
        this, QStringLiteral("Export the private key?"),
        QStringLiteral("Anyone who has this file can take over %1. Keep it somewhere only you can read.")
            .arg(hostnameText()),
        QMessageBox::Ok | QMessageBox::Cancel, QMessageBox::Cancel);
    if (answer != QMessageBox::Ok)
        return;
    const QString path = QFileDialog::getSaveFileName(this, QStringLiteral("Export key"),
                                                      QDir::homePath() + QStringLiteral("/keyhole-key.pem"),
                                                      QStringLiteral("PEM keys (*.pem)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportTo(path, &error))
        QMessageBox::critical(this, QStringLiteral("Export key"), QStringLiteral("Could not export: %1").arg(error));
}

} // namespace keyhole::tray
