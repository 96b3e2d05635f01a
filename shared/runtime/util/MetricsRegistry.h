#pragma once

#include <QByteArray>
#include <QtGlobal>

#include <functional>
#include <initializer_list>
#include <vector>

namespace keyhole::util {

// The metrics a program exposes, by name: it holds pointers to counters the program keeps as plain
// integers (updated on the hot path with ++, no lock: one thread), functions read at scrape time for
// gauges, and histograms. Nothing here runs per request except Histogram::observe().
// Register everything once at start; the registry never owns a counter, and each must outlive it.
class MetricsRegistry
{
public:
    enum class Type { Counter, Gauge, Histogram };

    // Fixed buckets (upper bounds, increasing), one counter each: observe() is a short scan, no allocation.
    class Histogram
    {
    public:
        Histogram(std::initializer_list<double> bounds);
        void observe(double value);
        const std::vector<double> &bounds() const { return m_bounds; }
        // Per bucket, not cumulative; one more than bounds(): the last is above every bound.
        const std::vector<quint64> &counts() const { return m_counts; }
        double sum() const { return m_sum; }
        quint64 count() const { return m_count; }

    private:
        std::vector<double> m_bounds;
        std::vector<quint64> m_counts;
        double m_sum = 0;
        quint64 m_count = 0;
    };

    struct Series {
        QByteArray labels; // as they appear between braces: `outcome="accepted"`; empty for none
        const quint64 *counter = nullptr;
        std::function<double()> gauge;
        const Histogram *histogram = nullptr;
    };

    struct Family {
        QByteArray name;
        QByteArray help;
        Type type = Type::Counter;
        std::vector<Series> series;
    };

    // Series of one name form one family, whatever order they are added in. `labels` are the
    // program's own constants, written out as they are (no escaping).
    void addCounter(const QByteArray &name, const QByteArray &help, const QByteArray &labels, const quint64 *value);
    void addGauge(const QByteArray &name, const QByteArray &help, const QByteArray &labels,
                  std::function<double()> read);
    void addHistogram(const QByteArray &name, const QByteArray &help, const Histogram *histogram);

    const std::vector<Family> &families() const { return m_families; }

private:
    Family &family(const QByteArray &name, const QByteArray &help, Type type);

    std::vector<Family> m_families;
};

} // namespace keyhole::util
