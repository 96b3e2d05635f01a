#include "RequestLogFilter.h"

#include "RequestLogModel.h"

namespace keyhole::tray {

RequestLogFilter::RequestLogFilter(RequestLogModel *model, QObject *parent)
    : QSortFilterProxyModel(parent)
    , m_model(model)
{
    setSourceModel(model);
    setFilterKeyColumn(-1);
    setFilterCaseSensitivity(Qt::CaseInsensitive);
}

void RequestLogFilter::setStatusClass(StatusClass statusClass)
{
    if (statusClass == m_statusClass)
        return;
    m_statusClass = statusClass;
    invalidateFilter();
}

bool RequestLogFilter::matches(const client::RequestRecord &record, StatusClass statusClass)
{
    const int hundreds = record.status / 100;
    switch (statusClass) {
    case StatusClass::All:
        return true;
    case StatusClass::Success:
        return hundreds == 1 || hundreds == 2;
    case StatusClass::Redirection:
        return hundreds == 3;
    case StatusClass::ClientError:
        return hundreds == 4;
    case StatusClass::ServerError:
        return hundreds == 5;
    case StatusClass::Errors:
        return !record.error.isEmpty() || record.status == 0;
    }
    return true;
}

bool RequestLogFilter::filterAcceptsRow(int sourceRow, const QModelIndex &sourceParent) const
{
    if (sourceParent.isValid() || sourceRow >= m_model->rowCount())
        return false;
    if (!matches(m_model->record(sourceRow), m_statusClass))
        return false;
    return QSortFilterProxyModel::filterAcceptsRow(sourceRow, sourceParent);
}

} // namespace keyhole::tray
