#pragma once

#include <QByteArray>
#include <QList>
#include <QObject>
#include <QPair>
#include <QProcess>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace keyhole::testing {

using HeaderPairs = QList<QPair<QByteArray, QByteArray>>;

// One response head as curl saw it (interim 1xx responses included).
struct CurlResponseHead {
    QByteArray statusLine;
    int status = 0;
    HeaderPairs headers; // in wire order, names as sent

    QByteArray header(const QByteArray &name) const;              // first value, case-insensitive; empty if absent
    QList<QByteArray> headerValues(const QByteArray &name) const; // all values, in order
};

// Per-URL figures from curl's --write-out.
struct CurlTransfer {
    int status = 0;
    int numConnects = -1;
    qint64 sizeDownload = -1;
    double timeTotal = 0;
};

struct CurlResult {
    int exitCode = -1;                 // curl's exit code; -1 if it did not run or timed out
    int status = 0;                    // the last transfer's final status (0 if none)
    HeaderPairs headers;               // the last final (non-1xx) response's headers
    QList<CurlResponseHead> responses; // every response head of every transfer, in order
    QList<CurlTransfer> transfers;     // one per URL
    QByteArray body;                   // body of the first URL (later URLs: pass -o yourself)
    QByteArray stderrText;

    QByteArray header(const QByteArray &name) const;
    QList<QByteArray> headerValues(const QByteArray &name) const;
    // A one-line summary for failure messages.
    QString describe() const;
};

// Runs /usr/bin/curl (or $KEYHOLE_CURL) asynchronously with `-s -S -o <body> -D <headers> -w <figures>`
// followed by the caller's arguments. Waiting runs an event loop, so other ManagedProcess pipes keep draining.
class CurlJob : public QObject
{
    Q_OBJECT

public:
    explicit CurlJob(QObject *parent = nullptr);
    ~CurlJob() override;
    Q_DISABLE_COPY(CurlJob)

    void start(const QStringList &arguments);
    bool isFinished() const;
    // Waits for curl to finish (kills it after `timeoutMs`) and collects the result.
    CurlResult wait(int timeoutMs = 30000);

private:
    QTemporaryDir m_dir;
    QProcess m_process;
    QByteArray m_stdout;
};

CurlResult runCurl(const QStringList &arguments, int timeoutMs = 30000);
std::unique_ptr<CurlJob> startCurl(const QStringList &arguments);

} // namespace keyhole::testing
