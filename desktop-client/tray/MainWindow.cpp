#include "MainWindow.h"

#include "AppActions.h"
#include "TrayController.h"

#include <QAction>
#include <QHBoxLayout>
#include <QIcon>
#include <QLabel>
#include <QStatusBar>
#include <QToolButton>
#include <QVBoxLayout>

namespace keyhole::tray {

namespace {

constexpr int kIconSize = 32;
constexpr int kNoticeMs = 10000;

QToolButton *buttonFor(QAction *action, QWidget *parent)
{
    auto *button = new QToolButton(parent);
    button->setDefaultAction(action);
    button->setToolButtonStyle(Qt::ToolButtonTextOnly);
    button->setSizePolicy(QSizePolicy::Expanding, QSizePolicy::Fixed);
    // A tool button follows its action's text and enabled state, not its visibility.
    button->setVisible(action->isVisible());
    QObject::connect(action, &QAction::changed, button, [button, action] { button->setVisible(action->isVisible()); });
    return button;
}

} // namespace

MainWindow::MainWindow(TrayController *controller, AppActions *actions, QWidget *parent)
    : QMainWindow(parent)
    , m_controller(controller)
    , m_icon(new QLabel)
    , m_state(new QLabel)
{
    setWindowTitle(QStringLiteral("Keyhole"));
    auto *central = new QWidget(this);
    auto *layout = new QVBoxLayout(central);

    auto *header = new QHBoxLayout;
    header->addWidget(m_icon);
    header->addWidget(m_state, 1);
    m_state->setWordWrap(true);
    layout->addLayout(header);
    // The proxy and the counters, as the tray menu shows them.
    for (QAction *line : {actions->proxyLine(), actions->trafficLine()}) {
        auto *label = new QLabel(line->text(), central);
        connect(line, &QAction::changed, label, [label, line] { label->setText(line->text()); });
        layout->addWidget(label);
    }

    layout->addWidget(buttonFor(actions->publicUrl(), central));
    auto *row1 = new QHBoxLayout;
    row1->addWidget(buttonFor(actions->openInBrowser(), central));
    row1->addWidget(buttonFor(actions->finishSetup(), central));
    row1->addWidget(buttonFor(actions->startStop(), central));
    row1->addWidget(buttonFor(actions->reconnectNow(), central));
    row1->addWidget(buttonFor(actions->localPort(), central));
    layout->addLayout(row1);
    auto *row2 = new QHBoxLayout;
    row2->addWidget(buttonFor(actions->requestLog(), central));
    row2->addWidget(buttonFor(actions->keys(), central));
    row2->addWidget(buttonFor(actions->settings(), central));
    row2->addWidget(buttonFor(actions->quit(), central));
    layout->addLayout(row2);
    auto *row3 = new QHBoxLayout;
    row3->addWidget(buttonFor(actions->openLog(), central));
    row3->addWidget(buttonFor(actions->about(), central));
    layout->addLayout(row3);
    setCentralWidget(central);

    connect(m_controller, &TrayController::changed, this, &MainWindow::refresh);
    refresh();
}

void MainWindow::notify(const QString &title, const QString &message)
{
    statusBar()->showMessage(title + QStringLiteral(": ") + message, kNoticeMs);
}

void MainWindow::refresh()
{
    const StatePresentation p = m_controller->presentation();
    const QIcon icon(p.iconPath);
    m_icon->setPixmap(icon.pixmap(kIconSize, kIconSize));
    m_state->setText(p.stateLine);
    setToolTip(p.toolTip);
    setWindowIcon(icon);
}

} // namespace keyhole::tray
