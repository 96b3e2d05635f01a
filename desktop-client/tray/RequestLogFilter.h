#pragma once

#include <QSortFilterProxyModel>

namespace keyhole::client {
struct RequestRecord;
}

namespace keyhole::tray {

class RequestLogModel;

// The request log as the window shows it: the text filter (any column) and a status class.
class RequestLogFilter : public QSortFilterProxyModel
{
    Q_OBJECT

public:
    enum class StatusClass {
        All,
        Success,     // 1xx and 2xx (a WebSocket that opened: 101)
        Redirection, // 3xx
        ClientError, // 4xx
        ServerError, // 5xx
        Errors,      // keyhole answered itself (the local service failed or did not answer), or no status
    };

    explicit RequestLogFilter(RequestLogModel *model, QObject *parent = nullptr);

    StatusClass statusClass() const { return m_statusClass; }
    void setStatusClass(StatusClass statusClass);
    static bool matches(const client::RequestRecord &record, StatusClass statusClass);

protected:
    bool filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const override;

private:
    RequestLogModel *m_model;
    StatusClass m_statusClass = StatusClass::All;
};

} // namespace keyhole::tray
