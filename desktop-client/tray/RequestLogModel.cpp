#include "RequestLogModel.h"

#include <QLocale>

#include <cstring>
#include <optional>

namespace keyhole::tray {

namespace {

QString shellQuoted(const QString &text)
{
    QString quoted = text;
    quoted.replace(QLatin1Char('\''), QStringLiteral("'\\''"));
    return QLatin1Char('\'') + quoted + QLatin1Char('\'');
}

// Characters that must never reach a terminal raw from a pasted command: controls (C0, DEL, C1),
// and invisible formatting such as bidirectional overrides, which make a command read differently
// from what it runs.
bool isUnsafeForShell(QChar c)
{
    switch (c.category()) {
    case QChar::Other_Control:
    case QChar::Other_Format:
    case QChar::Separator_Line:
    case QChar::Separator_Paragraph:
    case QChar::Other_Surrogate:
    case QChar::Other_NotAssigned:
        return true;
    default:
        return false;
    }
}

// The text of `bytes` when they are valid UTF-8 without unsafe characters; nullopt otherwise.
std::optional<QString> safeText(const QByteArray &bytes)
{
    const QString text = QString::fromUtf8(bytes);
    if (text.toUtf8() != bytes)
        return std::nullopt; // invalid UTF-8: the replacement characters would change the bytes
    for (const QChar c : text) {
        if (isUnsafeForShell(c))
            return std::nullopt;
    }
    return text;
}

// A request target as it goes into a URL: every byte outside printable ASCII percent-encoded.
QString urlPart(const QByteArray &raw)
{
    QString out;
    out.reserve(raw.size());
    for (const char ch : raw) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte <= 0x20 || byte >= 0x7f)
            out += QStringLiteral("%%1").arg(byte, 2, 16, QLatin1Char('0')).toUpper();
        else
            out += QLatin1Char(ch);
    }
    return out;
}

bool isToken(const QByteArray &text)
{
    if (text.isEmpty())
        return false;
    for (const char ch : text) {
        const auto byte = static_cast<unsigned char>(ch);
        if (byte <= 0x20 || byte >= 0x7f || std::strchr("\"(),/:;<=>?@[\\]{}", ch) != nullptr)
            return false;
    }
    return true;
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

QString RequestLogModel::curlCommand(const client::RequestRecord &record, const QUrl &base)
{
    // One line of printable text, whatever the visitor sent: it is pasted into a terminal.
    const auto options = QUrl::RemovePath | QUrl::RemoveQuery | QUrl::RemoveFragment | QUrl::StripTrailingSlash;
    QString url = base.toString(options | QUrl::FullyEncoded);
    url += urlPart(record.path.isEmpty() ? QByteArrayLiteral("/") : record.path);
    if (!record.query.isEmpty())
        url += QLatin1Char('?') + urlPart(record.query);

    QStringList parts{QStringLiteral("curl")};
    if (record.method != "GET")
        parts << QStringLiteral("-X")
              << shellQuoted(isToken(record.method) ? QString::fromLatin1(record.method) : urlPart(record.method));
    parts << shellQuoted(url);
    for (const client::Header &header : record.requestHeaders) {
        // curl computes these itself.
        if (header.first.compare("Content-Length", Qt::CaseInsensitive) == 0)
            continue;
        // A header that cannot be written as it came is left out rather than changed: it was not a
        // valid header for the local service either.
        const std::optional<QString> value = safeText(header.second);
        if (!isToken(header.first) || !value)
            continue;
        parts << QStringLiteral("-H") << shellQuoted(QString::fromLatin1(header.first) + QStringLiteral(": ") + *value);
    }
    const QByteArray &body = record.requestBodyPreview;
    if (body.isEmpty())
        return parts.join(QLatin1Char(' '));
    if (const std::optional<QString> text = safeText(body)) {
        parts << QStringLiteral("--data-binary") << shellQuoted(*text);
        return parts.join(QLatin1Char(' '));
    }
    // Binary, multi-line or control characters: the exact bytes travel base64-encoded and curl
    // reads them from its standard input.
    parts << QStringLiteral("--data-binary") << QStringLiteral("@-");
    return QStringLiteral("printf '%s' ") + shellQuoted(QString::fromLatin1(body.toBase64()))
        + QStringLiteral(" | base64 --decode | ") + parts.join(QLatin1Char(' '));
}

QString RequestLogModel::formatSize(qint64 bytes)
{
    return QLocale::c().formattedDataSize(bytes, 1, QLocale::DataSizeTraditionalFormat);
}

} // namespace keyhole::tray
