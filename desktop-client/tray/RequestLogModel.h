#pragma once

#include "RequestRecord.h"

#include <QAbstractTableModel>
#include <QColor>
#include <QUrl>

#include <deque>

namespace keyhole::tray {

// The requests the tunnel handled, newest first, at most capacity() of them (the oldest go).
// Filter it with a QSortFilterProxyModel (filterKeyColumn -1 matches any column).
class RequestLogModel : public QAbstractTableModel
{
    Q_OBJECT

public:
    enum Column { TimeColumn, MethodColumn, PathColumn, StatusColumn, DurationColumn, SizeColumn, ColumnCount };
    static constexpr int kDefaultCapacity = 1000;

    explicit RequestLogModel(int capacity = kDefaultCapacity, QObject *parent = nullptr);

    int capacity() const { return m_capacity; }
    void add(const client::RequestRecord &record);
    void clear();
    // Row 0 is the newest.
    const client::RequestRecord &record(int row) const { return m_records.at(size_t(row)); }
    // Every record, oldest first (the order of a HAR file).
    QList<client::RequestRecord> records() const;

    int rowCount(const QModelIndex &parent = {}) const override;
    int columnCount(const QModelIndex &parent = {}) const override;
    QVariant data(const QModelIndex &index, int role = Qt::DisplayRole) const override;
    QVariant headerData(int section, Qt::Orientation orientation, int role = Qt::DisplayRole) const override;

    // A one-line shell command that sends the captured request to `base` (scheme://host:port). It never
    // holds control or invisible formatting characters: a body that has them (or is not UTF-8) is fed
    // to curl base64-decoded on its standard input, and such a header is left out.
    static QString curlCommand(const client::RequestRecord &record, const QUrl &base);
    static QString formatSize(qint64 bytes);
    // The status column's colour: green 1xx/2xx, blue 3xx, amber 4xx, red 5xx and keyhole's own answers.
    static QColor statusColor(const client::RequestRecord &record);

private:
    std::deque<client::RequestRecord> m_records;
    int m_capacity;
};

} // namespace keyhole::tray
