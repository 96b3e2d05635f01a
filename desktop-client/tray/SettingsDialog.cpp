#include "SettingsDialog.h"

#include "TrayController.h"

#include <QCheckBox>
#include <QComboBox>
#include <QDialogButtonBox>
#include <QFileDialog>
#include <QFormLayout>
#include <QHBoxLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace keyhole::tray {

SettingsDialog::SettingsDialog(TrayController *controller, QWidget *parent)
    : QDialog(parent)
    , m_controller(controller)
    , m_original(controller->settings())
    , m_proxyUrl(new QLineEdit(m_original.proxyUrl.toString()))
    , m_targetScheme(new QComboBox)
    , m_targetHost(new QLineEdit(m_original.targetHost))
    , m_targetPort(new QSpinBox)
    , m_name(new QLineEdit(m_original.name))
    , m_caFile(new QLineEdit(m_original.caFile))
    , m_hostHeaderMode(new QComboBox)
    , m_hostHeaderValue(new QLineEdit)
    , m_urlChange(new QLabel)
    , m_startTunnel(new QCheckBox(QStringLiteral("Start the tunnel when Keyhole starts")))
    , m_startAtLogin(new QCheckBox(QStringLiteral("Start Keyhole when I log in")))
    , m_problem(new QLabel)
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Ok | QDialogButtonBox::Cancel))
{
    setWindowTitle(QStringLiteral("Keyhole Settings"));
    m_proxyUrl->setObjectName(QStringLiteral("proxyUrl"));
    m_proxyUrl->setPlaceholderText(QStringLiteral("https://tunnel.example.com"));
    m_targetScheme->setObjectName(QStringLiteral("targetScheme"));
    m_targetScheme->addItems({QStringLiteral("http"), QStringLiteral("https")});
    m_targetScheme->setCurrentText(m_original.targetScheme);
    m_targetHost->setObjectName(QStringLiteral("targetHost"));
    m_targetPort->setObjectName(QStringLiteral("targetPort"));
    m_targetPort->setRange(1, 65535);
    m_targetPort->setValue(m_original.targetPort);
    m_name->setObjectName(QStringLiteral("name"));
    m_name->setPlaceholderText(QStringLiteral("optional: another hostname for the same key"));
    m_caFile->setObjectName(QStringLiteral("caFile"));
    m_caFile->setPlaceholderText(QStringLiteral("optional: extra CA certificates (PEM)"));
    // The CLI's --host-header: keep, rewrite or a literal value.
    m_hostHeaderMode->setObjectName(QStringLiteral("hostHeaderMode"));
    m_hostHeaderMode->addItem(QStringLiteral("Keep the visitor's (the public hostname)"), QStringLiteral("keep"));
    m_hostHeaderMode->addItem(QStringLiteral("Rewrite to the local service's host:port"), QStringLiteral("rewrite"));
    m_hostHeaderMode->addItem(QStringLiteral("This value:"), QStringLiteral("value"));
    m_hostHeaderMode->setToolTip(
        QStringLiteral("Dev servers (Vite, webpack, Angular...) refuse hosts they do not know; Rewrite makes "
                       "them see their own address."));
    m_hostHeaderValue->setObjectName(QStringLiteral("hostHeaderValue"));
    m_hostHeaderValue->setPlaceholderText(QStringLiteral("e.g. myapp.local"));
    if (m_original.hostHeader.isEmpty()) {
        m_hostHeaderMode->setCurrentIndex(0);
    } else if (m_original.hostHeader == QLatin1String("rewrite")) {
        m_hostHeaderMode->setCurrentIndex(1);
    } else {
        m_hostHeaderMode->setCurrentIndex(2);
        m_hostHeaderValue->setText(m_original.hostHeader);
    }
    m_urlChange->setObjectName(QStringLiteral("urlChange"));
    m_urlChange->setWordWrap(true);
    m_urlChange->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_startTunnel->setObjectName(QStringLiteral("startTunnelOnLaunch"));
    m_startTunnel->setChecked(m_original.startTunnelOnLaunch);
    m_startAtLogin->setObjectName(QStringLiteral("startAtLogin"));
    m_startAtLogin->setChecked(m_original.startAtLogin);
    m_problem->setObjectName(QStringLiteral("problem"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color: #b00020"));

    auto *target = new QHBoxLayout;
    target->addWidget(m_targetScheme);
    target->addWidget(new QLabel(QStringLiteral("://")));
    target->addWidget(m_targetHost, 1);
    target->addWidget(new QLabel(QStringLiteral(":")));
    target->addWidget(m_targetPort);

    auto *caRow = new QHBoxLayout;
    caRow->addWidget(m_caFile, 1);
    auto *browse = new QPushButton(QStringLiteral("Browse…"));
    caRow->addWidget(browse);
    connect(browse, &QPushButton::clicked, this, [this] {
        const QString file = QFileDialog::getOpenFileName(this, QStringLiteral("CA certificates"), m_caFile->text(),
                                                          QStringLiteral("Certificates (*.pem *.crt);;All files (*)"));
        if (!file.isEmpty())
            m_caFile->setText(file);
    });

    auto *hostHeaderRow = new QHBoxLayout;
    hostHeaderRow->addWidget(m_hostHeaderMode);
    hostHeaderRow->addWidget(m_hostHeaderValue, 1);

    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Proxy URL:"), m_proxyUrl);
    form->addRow(QStringLiteral("Local service:"), target);
    form->addRow(QStringLiteral("Tunnel name:"), m_name);
    form->addRow(QString(), m_urlChange);
    form->addRow(QStringLiteral("Host header:"), hostHeaderRow);
    form->addRow(QStringLiteral("CA file:"), caRow);
    form->addRow(QString(), m_startTunnel);
    form->addRow(QString(), m_startAtLogin);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &SettingsDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &SettingsDialog::reject);

    for (QLineEdit *edit : {m_proxyUrl, m_targetHost, m_name, m_caFile, m_hostHeaderValue})
        connect(edit, &QLineEdit::textChanged, this, &SettingsDialog::revalidate);
    connect(m_targetScheme, &QComboBox::currentTextChanged, this, &SettingsDialog::revalidate);
    connect(m_hostHeaderMode, &QComboBox::currentIndexChanged, this, &SettingsDialog::revalidate);
    connect(m_targetPort, &QSpinBox::valueChanged, this, &SettingsDialog::revalidate);
    revalidate();
}

AppSettings SettingsDialog::editedSettings() const
{
    AppSettings s = m_original;
    s.proxyUrl = QUrl(m_proxyUrl->text().trimmed(), QUrl::StrictMode);
    s.targetScheme = m_targetScheme->currentText();
    s.targetHost = m_targetHost->text().trimmed();
    s.targetPort = m_targetPort->value();
    s.name = m_name->text().trimmed();
    s.caFile = m_caFile->text().trimmed();
    const QString mode = m_hostHeaderMode->currentData().toString();
    if (mode == QLatin1String("rewrite"))
        s.hostHeader = QStringLiteral("rewrite");
    else if (mode == QLatin1String("value"))
        s.hostHeader = m_hostHeaderValue->text().trimmed();
    else
        s.hostHeader.clear();
    s.startTunnelOnLaunch = m_startTunnel->isChecked();
    s.startAtLogin = m_startAtLogin->isChecked();
    return s;
}

QString SettingsDialog::problem() const
{
    return editedSettings().validate();
}

void SettingsDialog::revalidate()
{
    const QString text = problem();
    m_problem->setText(text);
    m_problem->setVisible(!text.isEmpty());
    m_buttons->button(QDialogButtonBox::Ok)->setEnabled(text.isEmpty());
    m_hostHeaderValue->setEnabled(m_hostHeaderMode->currentData().toString() == QLatin1String("value"));

    // The hostname comes from the key, the tunnel name and the proxy: say before OK that the address
    // people were given stops working.
    const AppSettings edited = editedSettings();
    const bool urlChanges = text.isEmpty()
        && (edited.name != m_controller->settings().name || edited.proxyUrl != m_controller->settings().proxyUrl);
    m_urlChange->setText(urlChanges ? QStringLiteral("The public URL will change to %1; the old one stops working.")
                                          .arg(m_controller->predictedPublicUrl(edited))
                                    : QString());
    m_urlChange->setVisible(urlChanges);
}

void SettingsDialog::accept()
{
    AppSettings settings = editedSettings();
    // Settings chosen here are as good as the Welcome dialog's: the proxy is the user's choice now.
    settings.firstRunDone = true;
    if (const QString error = m_controller->applySettings(settings); !error.isEmpty()) {
        m_problem->setText(error);
        m_problem->setVisible(true);
        return;
    }
    Q_EMIT applied(settings);
    QDialog::accept();
}

} // namespace keyhole::tray
