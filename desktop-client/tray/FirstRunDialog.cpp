#include "FirstRunDialog.h"

#include "TunnelHostname.h"

#include <QCheckBox>
#include <QClipboard>
#include <QDialogButtonBox>
#include <QGuiApplication>
#include <QHBoxLayout>
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
    , m_hostname(new QLineEdit)
    , m_proxyUrl(new QLineEdit(settings.proxyUrl.toString()))
    , m_port(new QSpinBox)
    , m_rewriteHost(new QCheckBox(QStringLiteral("Rewrite the Host header (for dev servers such as Vite)")))
    , m_problem(new QLabel)
    , m_buttons(new QDialogButtonBox(QDialogButtonBox::Cancel))
{
    setWindowTitle(QStringLiteral("Welcome to Keyhole"));
    auto *intro = new QLabel(
        QStringLiteral("Keyhole makes a web service on this computer reachable from the internet through a keyhole "
                       "proxy. A new key was created for you; it decides your public hostname:"));
    intro->setWordWrap(true);
    // A read-only line rather than a label: a long hostname scrolls inside it instead of widening the
    // dialog past the screen; the tooltip and the copy button give the whole name.
    m_hostname->setObjectName(QStringLiteral("hostname"));
    m_hostname->setReadOnly(true);
    m_hostname->setFrame(false);
    m_hostname->setFocusPolicy(Qt::ClickFocus);
    m_hostname->setStyleSheet(QStringLiteral("font-weight: bold; background: transparent"));
    auto *copy = new QPushButton(QStringLiteral("Copy"));
    copy->setObjectName(QStringLiteral("copyHostname"));
    copy->setAutoDefault(false);
    connect(copy, &QPushButton::clicked, this, [this] { QGuiApplication::clipboard()->setText(m_hostname->text()); });
    auto *hostnameRow = new QHBoxLayout;
    hostnameRow->addWidget(m_hostname, 1);
    hostnameRow->addWidget(copy);
    m_proxyUrl->setObjectName(QStringLiteral("proxyUrl"));
    m_proxyUrl->setPlaceholderText(QStringLiteral("https://tunnel.example.com"));
    m_port->setObjectName(QStringLiteral("localPort"));
    m_port->setRange(1, 65535);
    m_port->setValue(settings.targetPort);
    m_rewriteHost->setObjectName(QStringLiteral("rewriteHost"));
    m_rewriteHost->setChecked(isHostCheckingDevServerPort(settings.targetPort));
    m_rewriteHost->setToolTip(
        QStringLiteral("Dev servers (Vite, the Angular CLI, webpack...) refuse a Host they do not know, such as the "
                       "public hostname; rewritten, they see their own host:port."));
    // Once the user has an opinion, the port no longer decides.
    connect(m_rewriteHost, &QCheckBox::clicked, this, [this] { m_rewriteChosen = true; });
    m_problem->setObjectName(QStringLiteral("problem"));
    m_problem->setWordWrap(true);
    m_problem->setStyleSheet(QStringLiteral("color: #b00020"));
    // The message has room of its own below the fields, three lines high whether shown or not, so it
    // never squashes them nor makes the dialog jump; a longer one is cut (the tooltip has it all).
    // A URL in it is one long word that wrapping cannot break: it must not set the width either.
    QSizePolicy problemPolicy(QSizePolicy::Ignored, QSizePolicy::Fixed);
    problemPolicy.setRetainSizeWhenHidden(true);
    m_problem->setFixedHeight(3 * m_problem->fontMetrics().lineSpacing());
    m_problem->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_problem->setSizePolicy(problemPolicy);

    auto *form = new QFormLayout;
    form->addRow(QStringLiteral("Proxy URL:"), m_proxyUrl);
    form->addRow(QStringLiteral("Local port:"), m_port);
    form->addRow(QString(), m_rewriteHost);

    // Enter means Start: Cancel never becomes the default, even when it had the focus last.
    m_buttons->button(QDialogButtonBox::Cancel)->setAutoDefault(false);
    auto *start = m_buttons->addButton(QStringLiteral("Start"), QDialogButtonBox::AcceptRole);
    start->setObjectName(QStringLiteral("start"));
    start->setAutoDefault(true);
    start->setDefault(true);
    connect(m_buttons, &QDialogButtonBox::accepted, this, &QDialog::accept);
    connect(m_buttons, &QDialogButtonBox::rejected, this, &QDialog::reject);

    auto *layout = new QVBoxLayout(this);
    layout->addWidget(intro);
    layout->addLayout(hostnameRow);
    layout->addLayout(form);
    layout->addWidget(m_problem);
    layout->addWidget(m_buttons);

    connect(m_proxyUrl, &QLineEdit::textChanged, this, &FirstRunDialog::refresh);
    connect(m_port, &QSpinBox::valueChanged, this, [this](int port) {
        if (!m_rewriteChosen)
            m_rewriteHost->setChecked(isHostCheckingDevServerPort(port));
        refresh();
    });
    refresh();
}

AppSettings FirstRunDialog::settings() const
{
    AppSettings s = m_settings;
    s.proxyUrl = QUrl(m_proxyUrl->text().trimmed(), QUrl::StrictMode);
    s.targetPort = m_port->value();
    s.hostHeader = m_rewriteHost->isChecked() ? QStringLiteral("rewrite") : QString();
    s.firstRunDone = true;
    return s;
}

bool FirstRunDialog::isHostCheckingDevServerPort(int port)
{
    // Vite (dev and preview) and the Angular CLI: their default ports, and servers that refuse unknown
    // hosts out of the box. 3000 and 8080 are not here: as often they are apps that build absolute
    // URLs and redirects from the Host, which a rewrite would point at 127.0.0.1; for those the client
    // spots a refusal on the first request and says how to fix it.
    return port == 5173 || port == 5174 || port == 4173 || port == 4200;
}

QString FirstRunDialog::hostname() const
{
    return client::TunnelHostname::predict(m_label, settings().proxyUrl);
}

void FirstRunDialog::refresh()
{
    m_hostname->setText(hostname());
    m_hostname->setCursorPosition(0);
    m_hostname->setToolTip(hostname());
    const QString problem = settings().validate();
    m_problem->setText(problem);
    m_problem->setToolTip(problem);
    m_problem->setVisible(!problem.isEmpty());
    for (QAbstractButton *button : m_buttons->buttons()) {
        if (m_buttons->buttonRole(button) == QDialogButtonBox::AcceptRole)
            button->setEnabled(problem.isEmpty());
    }
}

} // namespace keyhole::tray
