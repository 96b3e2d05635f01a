#pragma once

#include <QByteArray>

namespace keyhole::util {

class MetricsRegistry;

// A registry as the Prometheus text exposition format, version 0.0.4: # HELP and # TYPE per family,
// one line per series, histograms as cumulative _bucket{le=...} lines with _sum and _count.
// Runs on scrape only.
class MetricsRenderer
{
public:
    static QByteArray render(const MetricsRegistry &registry);
    static QByteArray contentType() { return QByteArrayLiteral("text/plain; version=0.0.4; charset=utf-8"); }
    // A sample value: integers without a fraction or exponent, NaN and infinities as Prometheus spells them.
    static QByteArray formatValue(double value);
};

} // namespace keyhole::util
