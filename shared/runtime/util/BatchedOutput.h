#pragma once

#include <QByteArray>
#include <QByteArrayView>

#include <cstdio>
#include <mutex>

namespace keyhole::util {

// Whole lines for stdout or stderr, written once per event-loop pass (just before the loop waits)
// instead of one write() each: at thousands of requests per second the one-line-per-request logs
// of the proxy and keyhole-cli otherwise cost a system call per request. Urgent lines (warnings),
// lines from other threads and lines written before batching is enabled go out at once, after
// whatever is pending, so order is kept. Everything pending is written at exit.
class BatchedOutput
{
public:
    static BatchedOutput &standardOutput();
    static BatchedOutput &standardError();

    // Starts batching on the calling thread's event loop (call from main() after the application
    // object exists). Without an event dispatcher every line is written at once.
    void enableBatching();
    void writeLine(QByteArrayView line, bool urgent = false);
    void flush();

private:
    explicit BatchedOutput(std::FILE *stream);
    void flushLocked();

    std::FILE *m_stream;
    std::mutex m_mutex;
    QByteArray m_pending;
    bool m_batching = false;
};

} // namespace keyhole::util
