#include "RequestLogWindow.h"

#include "BodyView.h"
#include "CurlCommand.h"
#include "HarLog.h"
#include "RequestEdit.h"
#include "RequestLogFilter.h"
#include "RequestLogModel.h"
#include "RequestReplayer.h"
#include "TrayController.h"
#include "http/HeaderRules.h"

#include <QClipboard>
#include <QComboBox>
#include <QFileDialog>
#include <QFontDatabase>
#include <QFormLayout>
#include <QGuiApplication>
#include <QHBoxLayout>
#include <QHeaderView>
#include <QItemSelectionModel>
#include <QLabel>
#include <QLineEdit>
#include <QMenu>
#include <QMessageBox>
#include <QPlainTextEdit>
#include <QPushButton>
#include <QSaveFile>
#include <QShortcut>
#include <QSplitter>
#include <QTabWidget>
#include <QTableView>
#include <QTableWidget>
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

// The summary shows a body as it came when it is clean text; the body tabs pretty-print it.
QString bodyText(const QByteArray &preview, qint64 fullSize)
{
    if (fullSize == 0 && preview.isEmpty())
        return QStringLiteral("(no body)\n");
    QString text = client::BodyView::cleanText(preview);
    if (text.isNull())
        text = QStringLiteral("(%1 bytes of binary: see the body tab for a hex dump)").arg(fullSize);
    if (fullSize > preview.size())
        text += QStringLiteral("\n… (%1 of %2 bytes shown)").arg(preview.size()).arg(fullSize);
    return text + QLatin1Char('\n');
}

QString bodyInfo(const QByteArray &preview, qint64 fullSize, const QByteArray &contentType)
{
    const client::BodyView::Kind kind = client::BodyView::classify(preview, contentType);
    if (kind == client::BodyView::Kind::Empty && fullSize == 0)
        return QStringLiteral("No body");
    QString info = QStringLiteral("%1, %2").arg(client::BodyView::kindName(kind),
                                                RequestLogModel::formatSize(fullSize));
    if (!contentType.isEmpty())
        info += QStringLiteral(" (%1)").arg(QString::fromLatin1(contentType));
    if (fullSize > preview.size())
        info += QStringLiteral(": only the first %1 bytes were kept").arg(preview.size());
    return info;
}

void fillHeaders(QTableWidget *table, const client::HeaderList &headers)
{
    table->setRowCount(int(headers.size()));
    for (int row = 0; row < int(headers.size()); ++row) {
        const client::Header &header = headers.at(row);
        // Shown as text, never interpreted: a value with control characters shows them escaped.
        QString value = QString::fromUtf8(header.second);
        for (QChar &c : value) {
            if (c.category() == QChar::Other_Control)
                c = QChar::ReplacementCharacter;
        }
        table->setItem(row, 0, new QTableWidgetItem(QString::fromLatin1(header.first)));
        table->setItem(row, 1, new QTableWidgetItem(value));
    }
}

QTableWidget *headersTable(const QString &name)
{
    auto *table = new QTableWidget(0, 2);
    table->setObjectName(name);
    table->setHorizontalHeaderLabels({QStringLiteral("Name"), QStringLiteral("Value")});
    table->horizontalHeader()->setSectionResizeMode(0, QHeaderView::ResizeToContents);
    table->horizontalHeader()->setStretchLastSection(true);
    table->verticalHeader()->hide();
    table->verticalHeader()->setDefaultSectionSize(table->fontMetrics().height() + 6);
    table->setEditTriggers(QAbstractItemView::NoEditTriggers);
    table->setSelectionBehavior(QAbstractItemView::SelectRows);
    table->setWordWrap(false);
    return table;
}

QPlainTextEdit *monospaceView(const QString &name)
{
    auto *view = new QPlainTextEdit;
    view->setObjectName(name);
    view->setReadOnly(true);
    view->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    view->setLineWrapMode(QPlainTextEdit::NoWrap);
    return view;
}

QWidget *titled(const QString &title, QWidget *content)
{
    auto *box = new QWidget;
    auto *layout = new QVBoxLayout(box);
    layout->setContentsMargins(0, 0, 0, 0);
    layout->addWidget(new QLabel(title));
    layout->addWidget(content, 1);
    return box;
}

QWidget *bodyPage(QLabel *info, QPlainTextEdit *view)
{
    auto *page = new QWidget;
    auto *layout = new QVBoxLayout(page);
    layout->addWidget(info);
    layout->addWidget(view, 1);
    return page;
}

} // namespace

RequestLogWindow::RequestLogWindow(RequestLogModel *model, TrayController *controller, QWidget *parent)
    : QWidget(parent)
    , m_model(model)
    , m_controller(controller)
    , m_filter(new RequestLogFilter(model, this))
    , m_filterEdit(new QLineEdit)
    , m_statusFilter(new QComboBox)
    , m_table(new QTableView)
    , m_splitter(new QSplitter(Qt::Vertical))
    , m_tabs(new QTabWidget)
    , m_details(monospaceView(QStringLiteral("summary")))
    , m_requestHeaders(headersTable(QStringLiteral("requestHeaders")))
    , m_responseHeaders(headersTable(QStringLiteral("responseHeaders")))
    , m_requestBodyInfo(new QLabel)
    , m_requestBody(monospaceView(QStringLiteral("requestBody")))
    , m_responseBodyInfo(new QLabel)
    , m_responseBody(monospaceView(QStringLiteral("responseBody")))
    , m_timing(new QLabel)
    , m_editMethod(new QLineEdit)
    , m_editTarget(new QLineEdit)
    , m_editHeaders(new QPlainTextEdit)
    , m_editBody(new QPlainTextEdit)
    , m_editStatus(new QLabel)
    , m_editSend(new QPushButton(QStringLiteral("Send")))
    , m_copyCurl(new QPushButton(QStringLiteral("Copy as curl")))
    , m_replay(new QPushButton(QStringLiteral("Replay")))
    , m_export(new QPushButton(QStringLiteral("Export HAR")))
    , m_replayer(new client::RequestReplayer(this))
{
    connect(m_replayer, &client::RequestReplayer::finished, this, &RequestLogWindow::onReplayFinished);
    setWindowTitle(QStringLiteral("Keyhole Request Log"));

    m_filterEdit->setObjectName(QStringLiteral("filter"));
    m_filterEdit->setPlaceholderText(QStringLiteral("Filter by method, path, status… (Ctrl+F)"));
    m_filterEdit->setClearButtonEnabled(true);
    connect(m_filterEdit, &QLineEdit::textChanged, m_filter, &QSortFilterProxyModel::setFilterFixedString);

    m_statusFilter->setObjectName(QStringLiteral("statusFilter"));
    m_statusFilter->addItem(QStringLiteral("All statuses"), int(RequestLogFilter::StatusClass::All));
    m_statusFilter->addItem(QStringLiteral("2xx"), int(RequestLogFilter::StatusClass::Success));
    m_statusFilter->addItem(QStringLiteral("3xx"), int(RequestLogFilter::StatusClass::Redirection));
    m_statusFilter->addItem(QStringLiteral("4xx"), int(RequestLogFilter::StatusClass::ClientError));
    m_statusFilter->addItem(QStringLiteral("5xx"), int(RequestLogFilter::StatusClass::ServerError));
    m_statusFilter->addItem(QStringLiteral("Errors"), int(RequestLogFilter::StatusClass::Errors));
    m_statusFilter->setItemData(5, QStringLiteral("Requests keyhole answered itself: the local service failed"),
                                Qt::ToolTipRole);
    connect(m_statusFilter, &QComboBox::currentIndexChanged, this, [this](int index) {
        m_filter->setStatusClass(RequestLogFilter::StatusClass(m_statusFilter->itemData(index).toInt()));
    });

    m_table->setObjectName(QStringLiteral("requests"));
    m_table->setModel(m_filter);
    m_table->setSelectionBehavior(QAbstractItemView::SelectRows);
    m_table->setSelectionMode(QAbstractItemView::SingleSelection);
    m_table->setTextElideMode(Qt::ElideMiddle);
    m_table->setWordWrap(false);
    m_table->verticalHeader()->hide();
    m_table->verticalHeader()->setDefaultSectionSize(m_table->fontMetrics().height() + 6);
    m_table->setAlternatingRowColors(true);
    // Fixed widths from the widest value each column can hold: measuring rows would cost a pass over
    // the whole log on every request. The path takes the rest, elided in the middle.
    QHeaderView *header = m_table->horizontalHeader();
    const QFontMetrics metrics = m_table->fontMetrics();
    const auto fit = [&](int column, const QString &widest) {
        header->resizeSection(column, metrics.horizontalAdvance(widest) + 24);
    };
    fit(RequestLogModel::TimeColumn, QStringLiteral("00:00:00"));
    fit(RequestLogModel::MethodColumn, QStringLiteral("OPTIONS"));
    fit(RequestLogModel::StatusColumn, QStringLiteral("closed 1000"));
    fit(RequestLogModel::DurationColumn, QStringLiteral("99999 ms"));
    fit(RequestLogModel::SizeColumn, QStringLiteral("999.9 MB"));
    header->setSectionResizeMode(RequestLogModel::PathColumn, QHeaderView::Stretch);
    connect(m_table->selectionModel(), &QItemSelectionModel::currentRowChanged, this,
            &RequestLogWindow::onSelectionChanged);
    connect(m_table, &QTableView::activated, this, &RequestLogWindow::openDetails);

    m_details->setPlaceholderText(QStringLiteral("Select a request to see its headers and bodies."));

    auto *headers = new QSplitter(Qt::Vertical);
    headers->addWidget(titled(QStringLiteral("Request headers"), m_requestHeaders));
    headers->addWidget(titled(QStringLiteral("Response headers"), m_responseHeaders));

    m_timing->setObjectName(QStringLiteral("timing"));
    m_timing->setAlignment(Qt::AlignLeft | Qt::AlignTop);
    m_timing->setTextInteractionFlags(Qt::TextSelectableByMouse);
    m_timing->setMargin(8);

    m_editMethod->setObjectName(QStringLiteral("editMethod"));
    m_editTarget->setObjectName(QStringLiteral("editTarget"));
    m_editHeaders->setObjectName(QStringLiteral("editHeaders"));
    m_editBody->setObjectName(QStringLiteral("editBody"));
    m_editSend->setObjectName(QStringLiteral("sendEdited"));
    m_editStatus->setObjectName(QStringLiteral("editStatus"));
    m_editStatus->setWordWrap(true);
    m_editHeaders->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editBody->setFont(QFontDatabase::systemFont(QFontDatabase::FixedFont));
    m_editHeaders->setLineWrapMode(QPlainTextEdit::NoWrap);
    connect(m_editSend, &QPushButton::clicked, this, &RequestLogWindow::replayEdited);
    auto *editPage = new QWidget;
    auto *editForm = new QFormLayout(editPage);
    auto *requestLine = new QHBoxLayout;
    m_editMethod->setMaximumWidth(metrics.horizontalAdvance(QStringLiteral("OPTIONS")) * 2);
    requestLine->addWidget(m_editMethod);
    requestLine->addWidget(m_editTarget, 1);
    editForm->addRow(QStringLiteral("Request:"), requestLine);
    editForm->addRow(QStringLiteral("Headers:"), m_editHeaders);
    editForm->addRow(QStringLiteral("Body:"), m_editBody);
    auto *sendLine = new QHBoxLayout;
    sendLine->addWidget(m_editStatus, 1);
    sendLine->addWidget(m_editSend);
    editForm->addRow(sendLine);

    m_tabs->setObjectName(QStringLiteral("detailsTabs"));
    m_tabs->insertTab(SummaryTab, m_details, QStringLiteral("Summary"));
    m_tabs->insertTab(HeadersTab, headers, QStringLiteral("Headers"));
    m_tabs->insertTab(RequestBodyTab, bodyPage(m_requestBodyInfo, m_requestBody), QStringLiteral("Request body"));
    m_tabs->insertTab(ResponseBodyTab, bodyPage(m_responseBodyInfo, m_responseBody), QStringLiteral("Response body"));
    m_tabs->insertTab(TimingTab, m_timing, QStringLiteral("Timing"));
    m_tabs->insertTab(EditTab, editPage, QStringLiteral("Edit and replay"));

    connect(m_copyCurl, &QPushButton::clicked, this, [this] {
        const QString curl = curlForSelection();
        if (!curl.isEmpty())
            QGuiApplication::clipboard()->setText(curl);
    });
    connect(m_replay, &QPushButton::clicked, this, &RequestLogWindow::replaySelected);
    auto *exportMenu = new QMenu(m_export);
    exportMenu->addAction(QStringLiteral("Selected request…"), this, [this] { exportWithDialog(true); });
    exportMenu->addAction(QStringLiteral("Whole log…"), this, [this] { exportWithDialog(false); });
    m_export->setMenu(exportMenu);
    auto *clear = new QPushButton(QStringLiteral("Clear"));
    connect(clear, &QPushButton::clicked, m_model, &RequestLogModel::clear);

    auto *top = new QHBoxLayout;
    top->addWidget(m_filterEdit, 1);
    top->addWidget(m_statusFilter);
    top->addWidget(m_copyCurl);
    top->addWidget(m_replay);
    top->addWidget(m_export);
    top->addWidget(clear);

    m_splitter->addWidget(m_table);
    m_splitter->addWidget(m_tabs);
    m_splitter->setStretchFactor(0, 1);
    m_splitter->setStretchFactor(1, 1);

    auto *layout = new QVBoxLayout(this);
    layout->addLayout(top);
    layout->addWidget(m_splitter, 1);

    auto *close = new QShortcut(QKeySequence(Qt::Key_Escape), this);
    connect(close, &QShortcut::activated, this, &QWidget::close);
    auto *find = new QShortcut(QKeySequence::Find, this);
    connect(find, &QShortcut::activated, this, [this] {
        m_filterEdit->setFocus(Qt::ShortcutFocusReason);
        m_filterEdit->selectAll();
    });
    // Enter in the filter box goes to the first match.
    connect(m_filterEdit, &QLineEdit::returnPressed, this, [this] {
        if (m_filter->rowCount() > 0) {
            selectRow(0);
            m_table->setFocus(Qt::OtherFocusReason);
        }
    });

    resize(960, 700);
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
    showRecord(record);
    loadEditor(record);
    const bool http = record && record->kind == client::RequestRecord::Kind::Http;
    m_copyCurl->setEnabled(http);
    m_replay->setEnabled(http);
    m_editSend->setEnabled(http);
}

void RequestLogWindow::showRecord(const client::RequestRecord *record)
{
    m_details->setPlainText(record ? describe(*record) : QString());
    fillHeaders(m_requestHeaders, record ? record->requestHeaders : client::HeaderList());
    fillHeaders(m_responseHeaders, record ? record->responseHeaders : client::HeaderList());
    if (!record) {
        m_requestBodyInfo->clear();
        m_requestBody->clear();
        m_responseBodyInfo->clear();
        m_responseBody->clear();
        m_timing->clear();
        return;
    }
    const QByteArray requestType = http::headerValue(record->requestHeaders, "Content-Type");
    const QByteArray responseType = http::headerValue(record->responseHeaders, "Content-Type");
    m_requestBodyInfo->setText(bodyInfo(record->requestBodyPreview, record->bytesIn, requestType));
    m_requestBody->setPlainText(client::BodyView::render(record->requestBodyPreview, requestType));
    m_responseBodyInfo->setText(bodyInfo(record->responseBodyPreview, record->bytesOut, responseType));
    m_responseBody->setPlainText(client::BodyView::render(record->responseBodyPreview, responseType));

    const QDateTime started = record->startedAt.toLocalTime();
    QString timing = QStringLiteral("<table cellspacing=4>");
    const auto row = [&timing](const QString &name, const QString &value) {
        timing += QStringLiteral("<tr><td><b>%1</b></td><td>%2</td></tr>").arg(name, value.toHtmlEscaped());
    };
    row(QStringLiteral("Started"), started.toString(Qt::ISODateWithMs));
    row(QStringLiteral("Finished"), started.addMSecs(record->durationMs).toString(Qt::ISODateWithMs));
    row(QStringLiteral("Duration"), QStringLiteral("%1 ms").arg(record->durationMs));
    row(QStringLiteral("From"), record->remoteAddress.isEmpty() ? QStringLiteral("?") : record->remoteAddress);
    row(QStringLiteral("Request body"), RequestLogModel::formatSize(record->bytesIn));
    row(QStringLiteral("Response body"), RequestLogModel::formatSize(record->bytesOut));
    if (record->kind == client::RequestRecord::Kind::WebSocket)
        row(QStringLiteral("Messages"),
            QStringLiteral("%1 in, %2 out").arg(record->messagesIn).arg(record->messagesOut));
    m_timing->setText(timing + QStringLiteral("</table>"));
}

void RequestLogWindow::loadEditor(const client::RequestRecord *record)
{
    m_editStatus->clear();
    if (!record) {
        m_editMethod->clear();
        m_editTarget->clear();
        m_editHeaders->clear();
        m_editBody->clear();
        return;
    }
    const client::RequestEdit::Fields fields = client::RequestEdit::fieldsOf(*record);
    m_editMethod->setText(fields.method);
    m_editTarget->setText(fields.target);
    m_editHeaders->setPlainText(fields.headers);
    // A binary body cannot be edited as text; it is shown as hex and sent as captured.
    m_editBodyKept = !fields.body.has_value();
    m_editBody->setReadOnly(m_editBodyKept);
    if (m_editBodyKept) {
        m_editBody->setPlainText(client::BodyView::hexDump(record->requestBodyPreview));
        m_editStatus->setText(QStringLiteral("The binary body is sent as captured."));
    } else {
        m_editBody->setPlainText(QString::fromUtf8(*fields.body));
    }
    if (client::RequestReplayer::isBodyTruncated(*record))
        m_editStatus->setText(QStringLiteral("Only the first %1 of the %2 body bytes were kept: give the whole body "
                                             "to replay it.")
                                  .arg(record->requestBodyPreview.size())
                                  .arg(record->bytesIn));
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
    return record ? client::CurlCommand::build(*record, target()) : QString();
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
    return startReplay(*record);
}

bool RequestLogWindow::replayEdited()
{
    const client::RequestRecord *record = selectedRecord();
    if (!record || record->kind != client::RequestRecord::Kind::Http)
        return false;
    client::RequestEdit::Fields fields;
    fields.method = m_editMethod->text();
    fields.target = m_editTarget->text();
    fields.headers = m_editHeaders->toPlainText();
    if (!m_editBodyKept)
        fields.body = m_editBody->toPlainText().toUtf8();
    QString error;
    const std::optional<client::RequestRecord> edited = client::RequestEdit::apply(*record, fields, &error);
    if (!edited) {
        m_editStatus->setText(QStringLiteral("Not sent: %1").arg(error));
        return false;
    }
    if (client::RequestReplayer::isBodyTruncated(*edited)) {
        m_editStatus->setText(QStringLiteral("Not sent: only part of the binary body was kept"));
        return false;
    }
    if (!startReplay(*edited))
        return false;
    m_editStatus->setText(QStringLiteral("Sending %1 %2…").arg(fields.method.trimmed(), fields.target.trimmed()));
    return true;
}

bool RequestLogWindow::startReplay(const client::RequestRecord &record)
{
    if (!m_replayer->replay(record, target()))
        return false;
    m_replay->setEnabled(false);
    m_editSend->setEnabled(false);
    m_details->setPlainText(describe(record) + QStringLiteral("\n══ Replaying to %1… ══\n").arg(target().toString()));
    return true;
}

void RequestLogWindow::onReplayFinished(const QByteArray &recordId, const client::RequestRecord &r)
{
    m_replay->setEnabled(true);
    m_editSend->setEnabled(true);
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
    m_editStatus->setText(QStringLiteral("Answered %1 in %2 ms: see Summary").arg(r.status).arg(r.durationMs));
    if (m_tabs->currentIndex() != EditTab)
        m_tabs->setCurrentIndex(SummaryTab);
    showReplaySection();
    Q_EMIT replayFinished(r);
}

void RequestLogWindow::openDetails()
{
    const QList<int> sizes = m_splitter->sizes();
    if (sizes.size() == 2 && sizes.at(1) == 0) {
        const int total = sizes.at(0) + sizes.at(1);
        m_splitter->setSizes({total / 2, total - total / 2});
    }
    m_tabs->setFocus(Qt::OtherFocusReason);
}

bool RequestLogWindow::exportHar(const QString &path, bool selectedOnly, QString *error)
{
    QList<client::RequestRecord> records;
    if (selectedOnly) {
        const client::RequestRecord *record = selectedRecord();
        if (!record) {
            if (error)
                *error = QStringLiteral("no request is selected");
            return false;
        }
        records.append(*record);
    } else {
        records = m_model->records();
    }
    QSaveFile file(path);
    if (!file.open(QIODevice::WriteOnly) || file.write(client::HarLog::document(records)) < 0 || !file.commit()) {
        if (error)
            *error = file.errorString();
        return false;
    }
    return true;
}

void RequestLogWindow::exportWithDialog(bool selectedOnly)
{
    const QString path = QFileDialog::getSaveFileName(
        this, QStringLiteral("Export as HAR"), QStringLiteral("keyhole.har"), QStringLiteral("HTTP Archive (*.har)"));
    if (path.isEmpty())
        return;
    QString error;
    if (!exportHar(path, selectedOnly, &error))
        QMessageBox::warning(this, QStringLiteral("Export as HAR"),
                             QStringLiteral("Could not write %1: %2").arg(path, error));
}

} // namespace keyhole::tray
