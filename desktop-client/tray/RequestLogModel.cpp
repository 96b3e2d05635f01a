#include "RequestLogModel.h"

#include "CurlCommand.h"

#include <QLocale>

namespace keyhole::tray {

namespace {

bool isWebSocket(const client::RequestRecord &record)
{
    return record.kind == client::RequestRecord::Kind::WebSocket;
}

} // namespace

RequestLogModel::RequestLogModel(int capacity, QObject *parent)
    : QAbstractTableModel(parent)
    , m_capacity(qMax(1, capacity))
{
}

void RequestLogModel::add(const client::RequestRecord &record)
{
    if (int(m_records.size()) >= m_capacity) {
        const int last = int(m_records.size()) - 1;
        beginRemoveRows({}, last, last);
        m_records.pop_back();
        endRemoveRows();
    }
    beginInsertRows({}, 0, 0);
    m_records.push_front(record);
    endInsertRows();
}

void RequestLogModel::clear()
{
    beginResetModel();
    m_records.clear();
    endResetModel();
}

int RequestLogModel::rowCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : int(m_records.size());
}

int RequestLogModel::columnCount(const QModelIndex &parent) const
{
    return parent.isValid() ? 0 : ColumnCount;
}

QVariant RequestLogModel::data(const QModelIndex &index, int role) const
{
    if (!index.isValid() || index.row() >= int(m_records.size()))
        return {};
    const client::RequestRecord &r = m_records.at(size_t(index.row()));
    if (role == Qt::TextAlignmentRole) {
        if (index.column() == StatusColumn || index.column() == DurationColumn || index.column() == SizeColumn)
            return QVariant(Qt::AlignRight | Qt::AlignVCenter);
        return {};
    }
    if (role == Qt::ForegroundRole && index.column() == StatusColumn)
        return statusColor(r);
    if (role == Qt::ToolTipRole && index.column() == PathColumn)
        return data(index, Qt::DisplayRole); // the column elides long paths
    if (role == Qt::ToolTipRole && !r.error.isEmpty())
        return r.error;
    if (role != Qt::DisplayRole)
        return {};
    switch (index.column()) {
    case TimeColumn:
        return r.startedAt.toLocalTime().toString(QStringLiteral("HH:mm:ss"));
    case MethodColumn:
        return isWebSocket(r) ? QStringLiteral("WS") : QString::fromLatin1(r.method);
    case PathColumn: {
        QString path = QString::fromUtf8(r.path);
        if (!r.query.isEmpty())
            path += QLatin1Char('?') + QString::fromUtf8(r.query);
        return path;
    }
    case StatusColumn:
        if (r.wsEvent == client::RequestRecord::WsEvent::Closed)
            return QStringLiteral("closed %1").arg(r.closeCode);
        return r.status;
    case DurationColumn:
        return QStringLiteral("%1 ms").arg(r.durationMs);
    case SizeColumn:
        return formatSize(r.bytesOut);
    default:
        return {};
    }
}

QVariant RequestLogModel::headerData(int section, Qt::Orientation orientation, int role) const
{
    if (orientation != Qt::Horizontal || role != Qt::DisplayRole)
        return QAbstractTableModel::headerData(section, orientation, role);
    switch (section) {
    case TimeColumn:
        return QStringLiteral("Time");
    case MethodColumn:
        return QStringLiteral("Method");
    case PathColumn:
        return QStringLiteral("Path");
    case StatusColumn:
        return QStringLiteral("Status");
    case DurationColumn:
        return QStringLiteral("Duration");
    case SizeColumn:
        return QStringLiteral("Size");
    default:
        return {};
    }
}

QString RequestLogModel::curlCommand(const client::RequestRecord &record, const QUrl &base)
{
    return client::CurlCommand::build(record, base);
}

QList<client::RequestRecord> RequestLogModel::records() const
{
    return QList<client::RequestRecord>(m_records.rbegin(), m_records.rend());
}

QColor RequestLogModel::statusColor(const client::RequestRecord &record)
{
    if (!record.error.isEmpty() || record.status == 0)
        return QColor(0xc6, 0x28, 0x28);
    switch (record.status / 100) {
    case 1:
    case 2:
        return QColor(0x2e, 0x7d, 0x32);
    case 3:
        return QColor(0x15, 0x65, 0xc0);
    case 4:
        return QColor(0xb2, 0x6a, 0x00);
    default:
        return QColor(0xc6, 0x28, 0x28);
    }
}

QString RequestLogModel::formatSize(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

} // namespace keyhole::tray
