#include "util/BatchedOutput.h"

#include <QAbstractEventDispatcher>
#include <QCoreApplication>
#include <QThread>

#include <cstdlib>

namespace keyhole::util {

namespace {

// Past this a batch is written at once, so the buffer stays small however busy the loop is.
constexpr qsizetype kMaxPendingBytes = 64 * 1024;

bool onMainThread()
{
    const QCoreApplication *app = QCoreApplication::instance();
    return app && QThread::currentThread() == app->thread();
}

void flushAllAtExit()
{
    BatchedOutput::standardOutput().flush();
    BatchedOutput::standardError().flush();
}

} // namespace

BatchedOutput &BatchedOutput::standardOutput()
{
    static BatchedOutput out(stdout);
    return out;
}

BatchedOutput &BatchedOutput::standardError()
{
    static BatchedOutput err(stderr);
    return err;
}

BatchedOutput::BatchedOutput(std::FILE *stream)
    : m_stream(stream)
{
    static const int registered = std::atexit(&flushAllAtExit);
    Q_UNUSED(registered);
}

void BatchedOutput::enableBatching()
{
    QAbstractEventDispatcher *dispatcher = QAbstractEventDispatcher::instance();
    if (!dispatcher || !onMainThread())
        return;
    {
        const std::lock_guard<std::mutex> lock(m_mutex);
        if (m_batching)
            return;
        m_batching = true;
    }
    QObject::connect(dispatcher, &QAbstractEventDispatcher::aboutToBlock, dispatcher, [this] { flush(); });
    // The dispatcher goes away with the application; nothing may stay pending behind it.
    QObject::connect(dispatcher, &QObject::destroyed, [this] {
        const std::lock_guard<std::mutex> lock(m_mutex);
        m_batching = false;
        flushLocked();
    });
}

void BatchedOutput::writeLine(QByteArrayView line, bool urgent)
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    m_pending.append(line.data(), line.size());
    if (!m_batching || urgent || m_pending.size() >= kMaxPendingBytes || !onMainThread())
        flushLocked();
}

void BatchedOutput::flush()
{
    const std::lock_guard<std::mutex> lock(m_mutex);
    flushLocked();
}

void BatchedOutput::flushLocked()
{
    if (m_pending.isEmpty())
        return;
    std::fwrite(m_pending.constData(), 1, size_t(m_pending.size()), m_stream);
    std::fflush(m_stream);
    m_pending.resize(0); // keeps the capacity: the next batch needs no allocation
}

} // namespace keyhole::util
