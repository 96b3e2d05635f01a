#include "util/MetricsRenderer.h"

#include "util/MetricsRegistry.h"

#include <QLocale>

#include <cmath>

namespace keyhole::util {

namespace {

void appendSample(QByteArray &out, const QByteArray &name, const char *suffix, const QByteArray &labels,
                  const QByteArray &value)
{
    out.append(name).append(suffix);
    if (!labels.isEmpty())
        out.append('{').append(labels).append('}');
    out.append(' ').append(value).append('\n');
}

QByteArray typeName(MetricsRegistry::Type type)
{
    switch (type) {
    case MetricsRegistry::Type::Counter:
        return QByteArrayLiteral("counter");
    case MetricsRegistry::Type::Gauge:
        return QByteArrayLiteral("gauge");
    case MetricsRegistry::Type::Histogram:
        return QByteArrayLiteral("histogram");
    }
    return QByteArrayLiteral("untyped");
}

} // namespace

QByteArray MetricsRenderer::formatValue(double value)
{
    if (std::isnan(value))
        return QByteArrayLiteral("NaN");
    if (std::isinf(value))
        return value > 0 ? QByteArrayLiteral("+Inf") : QByteArrayLiteral("-Inf");
    if (value == std::floor(value) && std::fabs(value) < 1e15)
        return QByteArray::number(qint64(value));
    return QByteArray::number(value, 'g', QLocale::FloatingPointShortest);
}

QByteArray MetricsRenderer::render(const MetricsRegistry &registry)
{
    QByteArray out;
    out.reserve(8 * 1024);
    for (const MetricsRegistry::Family &family : registry.families()) {
        out.append("# HELP ").append(family.name).append(' ').append(family.help).append('\n');
        out.append("# TYPE ").append(family.name).append(' ').append(typeName(family.type)).append('\n');
        for (const MetricsRegistry::Series &series : family.series) {
            if (series.counter) {
                appendSample(out, family.name, "", series.labels, QByteArray::number(*series.counter));
            } else if (series.gauge) {
                appendSample(out, family.name, "", series.labels, formatValue(series.gauge()));
            } else if (const MetricsRegistry::Histogram *histogram = series.histogram) {
                const QByteArray prefix = series.labels.isEmpty() ? QByteArray() : series.labels + ',';
                quint64 cumulative = 0;
                for (size_t i = 0; i < histogram->bounds().size(); ++i) {
                    cumulative += histogram->counts()[i];
                    appendSample(out, family.name, "_bucket",
                                 prefix + "le=\"" + formatValue(histogram->bounds()[i]) + '"',
                                 QByteArray::number(cumulative));
                }
                cumulative += histogram->counts().back();
                appendSample(out, family.name, "_bucket", prefix + "le=\"+Inf\"", QByteArray::number(cumulative));
                appendSample(out, family.name, "_sum", series.labels, formatValue(histogram->sum()));
                appendSample(out, family.name, "_count", series.labels, QByteArray::number(histogram->count()));
            }
        }
    }
    return out;
}

} // namespace keyhole::util
