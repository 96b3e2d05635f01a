#pragma once

#include "RequestRecord.h"

#include <QUrl>
#include <QWidget>

class QComboBox;
class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSplitter;
class QTableView;
class QTableWidget;
class QTabWidget;

namespace keyhole::client {
class RequestReplayer;
}

namespace keyhole::tray {

class RequestLogFilter;
class RequestLogModel;
class TrayController;

// The request inspector: the log as a table (status in colour) with a text filter and a status-class
// filter, and for the selected request a details pane with tabs: a summary (and the last replay's
// answer), headers as tables, each body pretty-printed (JSON, forms) or as a hex dump, timing, and an
// editor to replay the request with changes. "Copy as curl" copies a command for the same request,
// "Replay" sends it to the local service again, "Export" writes HAR 1.2. Esc closes, Ctrl+F goes to
// the filter, Enter on a row opens its details. What is not presentation lives in the client core
// (BodyView, CurlCommand, HarLog, RequestEdit, RequestReplayer).
class RequestLogWindow : public QWidget
{
    Q_OBJECT

public:
    enum Tab { SummaryTab, HeadersTab, RequestBodyTab, ResponseBodyTab, TimingTab, EditTab };

    RequestLogWindow(RequestLogModel *model, TrayController *controller, QWidget *parent = nullptr);
    ~RequestLogWindow() override;

    RequestLogFilter *filterModel() const { return m_filter; }
    // Selects a row of the filtered view.
    void selectRow(int row);
    // The selected request, or nullptr.
    const client::RequestRecord *selectedRecord() const;
    // The summary tab: request line, status, headers, bodies and the last replay's answer.
    QString detailsText() const;
    // The curl command for the selected request (also put on the clipboard by the button).
    QString curlForSelection() const;
    // Sends the selected request to the local service; false when nothing is selected.
    bool replaySelected();
    // Sends the request as the editor tab has it; false (with the reason shown) when it is not valid.
    bool replayEdited();
    // Writes the selected request, or the whole log, as a HAR 1.2 file.
    bool exportHar(const QString &path, bool selectedOnly, QString *error = nullptr);
    // Shows the details pane (Enter on a row) and gives it the focus.
    void openDetails();
    static QString describe(const client::RequestRecord &record);

Q_SIGNALS:
    void replayFinished(const keyhole::client::RequestRecord &record);

private:
    void onSelectionChanged();
    void showRecord(const client::RequestRecord *record);
    void loadEditor(const client::RequestRecord *record);
    void showReplaySection();
    void onReplayFinished(const QByteArray &recordId, const client::RequestRecord &result);
    void exportWithDialog(bool selectedOnly);
    bool startReplay(const client::RequestRecord &record);
    QUrl target() const;

    RequestLogModel *m_model;
    TrayController *m_controller;
    RequestLogFilter *m_filter;
    QLineEdit *m_filterEdit;
    QComboBox *m_statusFilter;
    QTableView *m_table;
    QSplitter *m_splitter;
    QTabWidget *m_tabs;
    QPlainTextEdit *m_details;
    QTableWidget *m_requestHeaders;
    QTableWidget *m_responseHeaders;
    QLabel *m_requestBodyInfo;
    QPlainTextEdit *m_requestBody;
    QLabel *m_responseBodyInfo;
    QPlainTextEdit *m_responseBody;
    QLabel *m_timing;
    QLineEdit *m_editMethod;
    QLineEdit *m_editTarget;
    QPlainTextEdit *m_editHeaders;
    QPlainTextEdit *m_editBody;
    QLabel *m_editStatus;
    QPushButton *m_editSend;
    bool m_editBodyKept = false; // the editor shows a binary body as hex: the captured bytes go as they are
    QPushButton *m_copyCurl;
    QPushButton *m_replay;
    QPushButton *m_export;
    client::RequestReplayer *m_replayer;
    QString m_replayText;
};

} // namespace keyhole::tray
