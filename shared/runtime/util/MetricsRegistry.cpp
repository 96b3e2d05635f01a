#include "util/MetricsRegistry.h"

#include <algorithm>

namespace keyhole::util {

MetricsRegistry::Histogram::Histogram(std::initializer_list<double> bounds)
    : m_bounds(bounds)
    , m_counts(bounds.size() + 1, 0)
{
    Q_ASSERT(std::is_sorted(m_bounds.begin(), m_bounds.end()));
}

void MetricsRegistry::Histogram::observe(double value)
{
    size_t bucket = 0;
    while (bucket < m_bounds.size() && value > m_bounds[bucket])
        ++bucket;
    ++m_counts[bucket];
    m_sum += value;
    ++m_count;
}

MetricsRegistry::Family &MetricsRegistry::family(const QByteArray &name, const QByteArray &help, Type type)
{
    for (Family &family : m_families) {
        if (family.name == name) {
            Q_ASSERT(family.type == type);
            return family;
        }
    }
    m_families.push_back({name, help, type, {}});
    return m_families.back();
}

void MetricsRegistry::addCounter(const QByteArray &name, const QByteArray &help, const QByteArray &labels,
                                 const quint64 *value)
{
    Series series;
    series.labels = labels;
    series.counter = value;
    family(name, help, Type::Counter).series.push_back(std::move(series));
}

void MetricsRegistry::addGauge(const QByteArray &name, const QByteArray &help, const QByteArray &labels,
                               std::function<double()> read)
{
    Series series;
    series.labels = labels;
    series.gauge = std::move(read);
    family(name, help, Type::Gauge).series.push_back(std::move(series));
}

void MetricsRegistry::addHistogram(const QByteArray &name, const QByteArray &help, const Histogram *histogram)
{
    Series series;
    series.histogram = histogram;
    family(name, help, Type::Histogram).series.push_back(std::move(series));
}

} // namespace keyhole::util
