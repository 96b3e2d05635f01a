#include "RequestLogModel.h"

#include <QLocale>

namespace keyhole::tray {

namespace {

QString shellQuoted(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

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

protocol::HttpRequest RequestLogModel::replayRequest(const client::RequestRecord &record, bool *truncated)
{
    protocol::HttpRequest request;
    request.id = record.id + QByteArrayLiteral("-replay");
    request.method = record.method;
    request.path = record.path;
    request.query = record.query;
    request.headers = record.requestHeaders;
    request.body = record.requestBodyPreview;
    request.remoteAddress = record.remoteAddress;
    if (truncated)
        *truncated = record.bytesIn > record.requestBodyPreview.size();
    return request;
}

QString RequestLogModel::curlCommand(const client::RequestRecord &record, const QUrl &base)
{
    const auto options = QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::StripTrailingSlash;
    QString url = base.toString(options);
    url += QString::fromUtf8(record.path.isEmpty() ? QByteArrayLiteral("/") : record.path);
    if (!record.query.isEmpty())
        url += QLatin1Char('?') + QString::fromUtf8(record.query);

    QStringList parts{QStringLiteral("curl")};
    if (record.method != "GET")
        parts << QStringLiteral("-X") << shellQuoted(QString::fromLatin1(record.method));
    parts << shellQuoted(url);
    for (const protocol::Header &header : record.requestHeaders) {
        // curl computes these itself.
        if (header.first.compare("Content-Length", Qt::CaseInsensitive) == 0)
            continue;
        parts << QStringLiteral("-H")
              << shellQuoted(QString::fromLatin1(header.first) + QStringLiteral(": ")
                             + QString::fromUtf8(header.second));
    }
    if (!record.requestBodyPreview.isEmpty())
        parts << QStringLiteral("--data-binary") << shellQuoted(QString::fromUtf8(record.requestBodyPreview));
    return parts.join(QLatin1Char(' '));
}

QString RequestLogModel::formatSize(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

} // namespace keyhole::tray
