#include "CurlJob.h"

#include <QDeadlineTimer>
#include <QEventLoop>
#include <QFile>
#include <QProcessEnvironment>
#include <QTimer>

namespace keyhole::testing {

namespace {
// Lines of --write-out start with this marker so a body that later URLs write to stdout cannot be
// mistaken for figures.
const QByteArray WriteOutMarker = "@@keyhole-curl ";

QByteArray findHeader(const HeaderPairs &headers, const QByteArray &name)
{
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            return h.second;
    }
    return {};
}

QList<QByteArray> findHeaders(const HeaderPairs &headers, const QByteArray &name)
{
    QList<QByteArray> values;
    for (const auto &h : headers) {
        if (h.first.compare(name, Qt::CaseInsensitive) == 0)
            values.append(h.second);
    }
    return values;
}

QList<CurlResponseHead> parseHeaderDump(const QByteArray &dump)
{
    QList<CurlResponseHead> heads;
    for (QByteArray line : dump.split('\n')) {
        if (line.endsWith('\r'))
            line.chop(1);
        if (line.isEmpty())
            continue;
        if (line.startsWith("HTTP/")) {
            CurlResponseHead head;
            head.statusLine = line;
            const QList<QByteArray> parts = line.split(' ');
            head.status = parts.size() > 1 ? parts.at(1).toInt() : 0;
            heads.append(head);
            continue;
        }
        const qsizetype colon = line.indexOf(':');
        if (heads.isEmpty() || colon <= 0)
            continue;
        heads.last().headers.append({line.left(colon), line.mid(colon + 1).trimmed()});
    }
    return heads;
}

QByteArray readFile(const QString &path)
{
    QFile file(path);
    return file.open(QIODevice::ReadOnly) ? file.readAll() : QByteArray();
}
} // namespace

QByteArray CurlResponseHead::header(const QByteArray &name) const
{
    return findHeader(headers, name);
}

QList<QByteArray> CurlResponseHead::headerValues(const QByteArray &name) const
{
    return findHeaders(headers, name);
}

QByteArray CurlResult::header(const QByteArray &name) const
{
    return findHeader(headers, name);
}

QList<QByteArray> CurlResult::headerValues(const QByteArray &name) const
{
    return findHeaders(headers, name);
}

QString CurlResult::describe() const
{
    QByteArray shownBody = body.left(300);
    for (char &c : shownBody) {
        if (static_cast<unsigned char>(c) < 0x20 && c != '\n')
            c = '.';
    }
    return QStringLiteral("curl exit %1, status %2, %3 body bytes: %4 | stderr: %5")
        .arg(exitCode)
        .arg(status)
        .arg(body.size())
        .arg(QString::fromUtf8(shownBody), QString::fromUtf8(stderrText.trimmed()));
}

CurlJob::CurlJob(QObject *parent)
    : QObject(parent)
{
    connect(&m_process, &QProcess::readyReadStandardOutput, this,
            [this] { m_stdout += m_process.readAllStandardOutput(); });
}

CurlJob::~CurlJob()
{
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(3000);
    }
}

void CurlJob::start(const QStringList &arguments)
{
    const QString curl = qEnvironmentVariable("KEYHOLE_CURL", QStringLiteral("/usr/bin/curl"));
    QStringList args{QStringLiteral("-s"),
                     QStringLiteral("-S"),
                     QStringLiteral("-o"),
                     m_dir.filePath(QStringLiteral("body")),
                     QStringLiteral("-D"),
                     m_dir.filePath(QStringLiteral("headers")),
                     QStringLiteral("-w"),
                     QStringLiteral("\n") + QString::fromLatin1(WriteOutMarker)
                         + QStringLiteral("%{http_code} %{num_connects} %{size_download} %{time_total}\n")};
    args += arguments;
    m_process.start(curl, args, QIODevice::ReadOnly);
}

bool CurlJob::isFinished() const
{
    return m_process.state() == QProcess::NotRunning;
}

CurlResult CurlJob::wait(int timeoutMs)
{
    CurlResult result;
    if (m_process.state() != QProcess::NotRunning) {
        QEventLoop loop;
        QTimer timer;
        timer.setSingleShot(true);
        connect(&timer, &QTimer::timeout, &loop, &QEventLoop::quit);
        connect(&m_process, &QProcess::finished, &loop, &QEventLoop::quit);
        timer.start(timeoutMs);
        loop.exec();
    }
    m_stdout += m_process.readAllStandardOutput();
    result.stderrText = m_process.readAllStandardError();
    if (m_process.state() != QProcess::NotRunning) {
        m_process.kill();
        m_process.waitForFinished(3000);
        result.stderrText += QByteArray("[killed: no answer within ") + QByteArray::number(timeoutMs) + " ms]";
    } else if (m_process.exitStatus() == QProcess::NormalExit && m_process.error() != QProcess::FailedToStart) {
        result.exitCode = m_process.exitCode();
    } else {
        result.stderrText += m_process.errorString().toUtf8();
    }

    for (const QByteArray &line : m_stdout.split('\n')) {
        if (!line.startsWith(WriteOutMarker))
            continue;
        const QList<QByteArray> fields = line.mid(WriteOutMarker.size()).trimmed().split(' ');
        CurlTransfer transfer;
        transfer.status = fields.value(0).toInt();
        transfer.numConnects = fields.value(1).toInt();
        transfer.sizeDownload = fields.value(2).toLongLong();
        transfer.timeTotal = fields.value(3).toDouble();
        result.transfers.append(transfer);
    }
    if (!result.transfers.isEmpty())
        result.status = result.transfers.last().status;

    result.responses = parseHeaderDump(readFile(m_dir.filePath(QStringLiteral("headers"))));
    for (auto it = result.responses.crbegin(); it != result.responses.crend(); ++it) {
        if (it->status >= 200) {
            result.headers = it->headers;
            break;
        }
    }
    result.body = readFile(m_dir.filePath(QStringLiteral("body")));
    return result;
}

std::unique_ptr<CurlJob> startCurl(const QStringList &arguments)
{
    auto job = std::make_unique<CurlJob>();
    job->start(arguments);
    return job;
}

CurlResult runCurl(const QStringList &arguments, int timeoutMs)
{
    return startCurl(arguments)->wait(timeoutMs);
}

} // namespace keyhole::testing
