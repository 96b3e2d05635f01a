#include "FirstRunDialog.h"

#include "TunnelHostname.h"

#include <QDialogButtonBox>
#include <QFormLayout>
#include <QLabel>
#include <QLineEdit>
#include <QPushButton>
#include <QSpinBox>
#include <QVBoxLayout>

namespace keyhole::tray {

FirstRunDialog::FirstRunDialog(const AppSettings &settings, const crypto::KeyPair &key, QWidget *parent)
    : QDialog(parent)
    , m_settings(settings)
    , m_label(client::TunnelHostname::label(key, settings.name))
    , m_hostname(new QLabel)
    , m_proxyUrl(new QLineEdit(settings.proxyUrl.toString()))
    , m_port(new QSpinBox)
    , m_problem(new QLabel)
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel))
{
    setWindowTitle(QStringLiteral("Welcome to Keyhole"));
    auto *intro = new QLabel(
        QStringLiteral("Keyhole makes a web service on this computer reachable from the internet through a keyhole "
                       "proxy. A new key was created for you; it decides your public hostname:"));
    intro->setWordWrap(true);
    m_hostname->setObjectName(QStringLiteral("hostname"));
    m_hostname->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_hostname->setStyleSheet(QStringLiteral("font-weight: bold"));
    m_proxyUrl->setObjectName(QStringLiteral("proxyUrl"));
    m_proxyUrl->setPlaceholderText(QStringLiteral("https://tunnel.example.com"));
    m_port->setObjectName(QStringLiteral("localPort"));
    m_port->setRange(1, 65535);
    m_port->setValue(settings.targetPort);
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color: #b00020"));

    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Proxy URL:"), m_proxyUrl);
    form->addRow(QStringLiteral("Local port:"), m_port);

    auto *start = m_buttons->addButton(QStringLiteral("Start"), QDialogButtonBox::AcceptRole);
    start->setDefault(true);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addWidget(m_hostname);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);

    connect(m_proxyUrl, &QLineEdit::textChanged, this, &FirstRunDialog::refresh);
    connect(m_port, &QSpinBox::valueChanged, this, &FirstRunDialog::refresh);
    refresh();
}

AppSettings FirstRunDialog::settings() const
{
    AppSettings s = m_settings;
    s.proxyUrl = QUrl(m_proxyUrl->text().trimmed(), QUrl::StrictMode);
    s.targetPort = m_port->value();
    s.firstRunDone = true;
    return s;
}

QString FirstRunDialog::hostname() const
{
    return client::TunnelHostname::predict(m_label, settings().proxyUrl);
}

void FirstRunDialog::refresh()
{
    m_hostname->setText(hostname());
    const QString problem = settings().validate();
    m_problem->setText(problem);
    m_problem->setVisible(!problem.isEmpty());
    for (QAbstractButton *button : m_buttons->buttons()) {
        if (m_buttons->buttonRole(button) == QDialogButtonBox::AcceptRole)
            button->setEnabled(problem.isEmpty());
    }
}

} // namespace keyhole::tray
