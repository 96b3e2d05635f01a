#include "RequestLogWindow.h"

#include "RequestLogModel.h"
#include "RequestReplayer.h"
#include "TrayController.h"

#include <QClipboard>
#include <QFontDatabase>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLineEdit>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSortFilterProxyModel>
#include <QSplitter>
#include <QTableView>
#include <QTextCursor>
#include <QVBoxLayout>

namespace keyhole::tray {

namespace {

QString headersText(const client::HeaderList &headers)
{
    QString text;
    for (const client::Header &header : headers)
        text += QString::fromLatin1(header.first) + QStringLiteral(": ") + QString::fromUtf8(header.second)
            + QLatin1Char('\n');
    return text;
}

QString bodyText(const QByteArray &preview, qint64 fullSize)
{
    if (fullSize == 0 && preview.isEmpty())
        return QStringLiteral("(no body)\n");
    QString text = QString::fromUtf8(preview);
    if (fullSize > preview.size())
        text += QStringLiteral("\n… (%1 of %2 bytes shown)").arg(preview.size()).arg(fullSize);
    return text + QLatin1Char('\n');
}

} // namespace

RequestLogWindow::RequestLogWindow(RequestLogModel *model, TrayController *controller, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_controller(controller)
    , m_filter(new QSortFilterProxyModel(this))
    , m_filterEdit(new QLineEdit)
    , m_table(new QTableView)
    , m_details(new QPlainTextEdit)
    , m_copyCurl(new QPushButton(QStringLiteral("Copy as curl")))
    , m_replay(new QPushButton(QStringLiteral("Replay")))
    , m_replayer(new client::RequestReplayer(this))
{
    connect(m_replayer, &client::RequestReplayer::finished, this, &RequestLogWindow::onReplayFinished);
    setWindowTitle(QStringLiteral("Keyhole Request Log"));
    m_filter->setSourceModel(m_model);
    m_filter->setFilterKeyColumn(-1);
    m_filter->setFilterCaseSensitivity(Qt::CaseInsensitive);

    m_filterEdit->setObjectName(QStringLiteral("filter"));
    m_filterEdit->setPlaceholderText(QStringLiteral("Filter by method, path, status…"));
    m_filterEdit->setClearButtonEnabled(true);
    connect(m_filterEdit, &QLineEdit::textChanged, m_filter, &QSortFilterProxyModel::setFilterFixedString);

    m_table->setModel(m_filter);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->horizontalHeader()->setSectionResizeMode(RequestLogModel::PathColumn, QHeaderView::Stretch);
    m_table->setAlternatingRowColors(true);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &RequestLogWindow::onSelectionChanged);

    m_details->setReadOnly(true);
    m_details->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_details->setPlaceholderText(QStringLiteral("Select a request to see its headers and bodies."));

    connect(m_copyCurl, &QPushButton::clicked, this, [this] {
        const QString curl = curlForSelection();
        if (!curl.isEmpty())
            QGuiApplication::clipboard()->setText(curl);
    });
    connect(m_replay, &QPushButton::clicked, this, &RequestLogWindow::replaySelected);
    auto *clear = new QPushButton(QStringLiteral("Clear"));
    connect(clear, &QPushButton::clicked, m_model, &RequestLogModel::clear);

    auto *top = new QHBoxLayout;
    top->addWidget(m_filterEdit, 1);
    top->addWidget(m_copyCurl);
    top->addWidget(m_replay);
    top->addWidget(clear);

    auto *splitter = new QSplitter(Qt::Vertical);
    splitter->addWidget(m_table);
    splitter->addWidget(m_details);
    splitter->setStretchFactor(0, 1);
    splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(splitter, 1);
    resize(860, 640);
    onSelectionChanged();
}

RequestLogWindow::~RequestLogWindow() = default;

void RequestLogWindow::selectRow(int row)
{
    m_table->selectRow(row);
    m_table->selectionModel()->setCurrentIndex(m_filter->index(row, 0),
                                               QItemSelectionModel::ClearAndSelect | QItemSelectionModel::Rows);
}

const client::RequestRecord *RequestLogWindow::selectedRecord() const
{
    const QModelIndex current = m_table->selectionModel()->currentIndex();
    if (!current.isValid())
        return nullptr;
    const QModelIndex source = m_filter->mapToSource(current);
    if (!source.isValid() || source.row() >= m_model->rowCount())
        return nullptr;
    return &m_model->record(source.row());
}

QString RequestLogWindow::detailsText() const
{
    return m_details->toPlainText();
}

QString RequestLogWindow::describe(const client::RequestRecord &r)
{
    QString path = QString::fromUtf8(r.path);
    if (!r.query.isEmpty())
        path += QLatin1Char('?') + QString::fromUtf8(r.query);
    QString text = QStringLiteral("%1 %2\n").arg(QString::fromLatin1(r.method), path);
    text += QStringLiteral("Status %1, %2 ms, from %3 at %4\n")
                .arg(r.status)
                .arg(r.durationMs)
                .arg(r.remoteAddress.isEmpty() ? QStringLiteral("?") : r.remoteAddress,
                     r.startedAt.toLocalTime().toString(Qt::ISODateWithMs));
    if (!r.error.isEmpty())
        text += QStringLiteral("Answered by keyhole: %1\n").arg(r.error);
    if (r.kind == client::RequestRecord::Kind::WebSocket && r.wsEvent == client::RequestRecord::WsEvent::Closed)
        text += QStringLiteral("WebSocket closed %1 %2; %3 messages in, %4 out\n")
                    .arg(r.closeCode)
                    .arg(r.closeReason)
                    .arg(r.messagesIn)
                    .arg(r.messagesOut);
    text += QStringLiteral("\n── Request headers ──\n") + headersText(r.requestHeaders);
    text += QStringLiteral("\n── Request body ──\n") + bodyText(r.requestBodyPreview, r.bytesIn);
    text += QStringLiteral("\n── Response headers ──\n") + headersText(r.responseHeaders);
    text += QStringLiteral("\n── Response body ──\n") + bodyText(r.responseBodyPreview, r.bytesOut);
    return text;
}

void RequestLogWindow::onSelectionChanged()
{
    const client::RequestRecord *record = selectedRecord();
    m_replayText.clear();
    m_details->setPlainText(record ? describe(*record) : QString());
    const bool http = record && record->kind == client::RequestRecord::Kind::Http;
    m_copyCurl->setEnabled(http);
    m_replay->setEnabled(http);
}

void RequestLogWindow::showReplaySection()
{
    // Scroll so the replay's answer starts at the top of the pane: to the end first, then back up.
    const int at = m_details->toPlainText().indexOf(QStringLiteral("══ Replay"));
    if (at < 0)
        return;
    QTextCursor cursor = m_details->textCursor();
    cursor.movePosition(QTextCursor::End);
    m_details->setTextCursor(cursor);
    m_details->ensureCursorVisible();
    cursor.setPosition(at);
    m_details->setTextCursor(cursor);
    m_details->ensureCursorVisible();
}

QString RequestLogWindow::curlForSelection() const
{
    const client::RequestRecord *record = selectedRecord();
    return record ? RequestLogModel::curlCommand(*record, target()) : QString();
}

QUrl RequestLogWindow::target() const
{
    return m_controller->settings().targetUrl();
}

bool RequestLogWindow::replaySelected()
{
    const client::RequestRecord *record = selectedRecord();
    if (!record)
        return false;
    // The log keeps only a preview of a body: part of one would be another request.
    if (client::RequestReplayer::isBodyTruncated(*record)) {
        const QString why = QStringLiteral("\n══ Cannot replay: only the first %1 of the %2 body bytes were kept ══\n")
                                .arg(record->requestBodyPreview.size())
                                .arg(record->bytesIn);
        m_details->setPlainText(describe(*record) + why);
        return false;
    }
    if (!m_replayer->replay(*record, target()))
        return false;
    m_replay->setEnabled(false);
    m_details->setPlainText(describe(*record) + QStringLiteral("\n══ Replaying to %1… ══\n").arg(target().toString()));
    return true;
}

void RequestLogWindow::onReplayFinished(const QByteArray &recordId, const client::RequestRecord &r)
{
    m_replay->setEnabled(true);
    const client::RequestRecord *selected = selectedRecord();
    if (!selected || selected->id != recordId) {
        Q_EMIT replayFinished(r); // the user moved on; keep the pane on what they look at now
        return;
    }
    m_replayText = QStringLiteral("\n══ Replay: %1 in %2 ms ══\n").arg(r.status).arg(r.durationMs);
    if (!r.error.isEmpty())
        m_replayText += QStringLiteral("Error: %1\n").arg(r.error);
    m_replayText += QStringLiteral("\n── Response headers ──\n");
    m_replayText += headersText(r.responseHeaders);
    m_replayText += QStringLiteral("\n── Response body ──\n");
    m_replayText += bodyText(r.responseBodyPreview, r.bytesOut);
    m_details->setPlainText(describe(*selected) + m_replayText);
    showReplaySection();
    Q_EMIT replayFinished(r);
}

} // namespace keyhole::tray
