#pragma once

#include "RequestRecord.h"

#include <QUrl>
#include <QWidget>

class QLabel;
class QLineEdit;
class QPlainTextEdit;
class QPushButton;
class QSortFilterProxyModel;
class QTableView;

namespace keyhole::client {
class RequestReplayer;
}

namespace keyhole::tray {

class RequestLogModel;
class TrayController;

// The request inspector: the log as a table with a filter box, and for the selected request its
// headers and the start of both bodies. "Copy as curl" copies a command for the same request;
// "Replay" sends it to the local service again and shows the new response below.
class RequestLogWindow : public QWidget
{
    Q_OBJECT

public:
    RequestLogWindow(RequestLogModel *model, TrayController *controller, QWidget *parent = nullptr);
    ~RequestLogWindow() override;

    QSortFilterProxyModel *filterModel() const { return m_filter; }
    // Selects a row of the filtered view.
    void selectRow(int row);
    // The selected request, or nullptr.
    const client::RequestRecord *selectedRecord() const;
    QString detailsText() const;
    // The curl command for the selected request (also put on the clipboard by the button).
    QString curlForSelection() const;
    // Sends the selected request to the local service; false when nothing is selected.
    bool replaySelected();
    static QString describe(const client::RequestRecord &record);

Q_SIGNALS:
    void replayFinished(const keyhole::client::RequestRecord &record);

private:
    void onSelectionChanged();
    void showReplaySection();
    void onReplayFinished(const QByteArray &recordId, const client::RequestRecord &result);
    QUrl target() const;

    RequestLogModel *m_model;
    TrayController *m_controller;
    QSortFilterProxyModel *m_filter;
    QLineEdit *m_filterEdit;
    QTableView *m_table;
    QPlainTextEdit *m_details;
    QPushButton *m_copyCurl;
    QPushButton *m_replay;
    client::RequestReplayer *m_replayer;
    QString m_replayText;
};

} // namespace keyhole::tray
