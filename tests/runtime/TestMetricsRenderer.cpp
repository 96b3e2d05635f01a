#include "util/MetricsRegistry.h"
#include "util/MetricsRenderer.h"

#include <QtTest>

#include <limits>

using keyhole::util::MetricsRegistry;
using keyhole::util::MetricsRenderer;

class TestMetricsRenderer : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void formatValue_data();
    void formatValue();
    void countersGroupIntoFamilies();
    void countersAreReadAtRenderTime();
    void gauge();
    void histogram_data();
    void histogram();
    void empty();
};

void TestMetricsRenderer::formatValue_data()
{
    QTest::addColumn<double>("value");
    QTest::addColumn<QByteArray>("text");
    QTest::newRow("zero") << 0.0 << QByteArray("0");
    QTest::newRow("integer") << 42.0 << QByteArray("42");
    QTest::newRow("negative") << -3.0 << QByteArray("-3");
    QTest::newRow("large integer") << 123456789012.0 << QByteArray("123456789012");
    QTest::newRow("fraction") << 0.005 << QByteArray("0.005");
    QTest::newRow("2.5") << 2.5 << QByteArray("2.5");
    QTest::newRow("tiny") << 1e-9 << QByteArray("1e-09");
    QTest::newRow("NaN") << std::numeric_limits<double>::quiet_NaN() << QByteArray("NaN");
    QTest::newRow("+Inf") << std::numeric_limits<double>::infinity() << QByteArray("+Inf");
    QTest::newRow("-Inf") << -std::numeric_limits<double>::infinity() << QByteArray("-Inf");
}

void TestMetricsRenderer::formatValue()
{
    QFETCH(double, value);
    QFETCH(QByteArray, text);
    QCOMPARE(MetricsRenderer::formatValue(value), text);
}

void TestMetricsRenderer::countersGroupIntoFamilies()
{
    quint64 accepted = 3, refused = 1, other = 7;
    MetricsRegistry registry;
    registry.addCounter("x_registrations_total", "Registrations.", "outcome=\"accepted\"", &accepted);
    registry.addCounter("x_other_total", "Other things.", {}, &other);
    registry.addCounter("x_registrations_total", "Registrations.", "outcome=\"refused\"", &refused);
    QCOMPARE(MetricsRenderer::render(registry),
             QByteArray("# HELP x_registrations_total Registrations.\n"
                        "# TYPE x_registrations_total counter\n"
                        "x_registrations_total{outcome=\"accepted\"} 3\n"
                        "x_registrations_total{outcome=\"refused\"} 1\n"
                        "# HELP x_other_total Other things.\n"
                        "# TYPE x_other_total counter\n"
                        "x_other_total 7\n"));
}

void TestMetricsRenderer::countersAreReadAtRenderTime()
{
    quint64 counter = 0;
    MetricsRegistry registry;
    registry.addCounter("x_total", "X.", {}, &counter);
    QVERIFY(MetricsRenderer::render(registry).endsWith("x_total 0\n"));
    counter += 18446744073709551615ull; // the largest value is written whole
    QVERIFY(MetricsRenderer::render(registry).endsWith("x_total 18446744073709551615\n"));
}

void TestMetricsRenderer::gauge()
{
    double value = 1.5;
    MetricsRegistry registry;
    registry.addGauge("x_up", "Up.", "bus=\"redis\"", [&value] { return value; });
    QCOMPARE(MetricsRenderer::render(registry),
             QByteArray("# HELP x_up Up.\n# TYPE x_up gauge\nx_up{bus=\"redis\"} 1.5\n"));
    value = 0;
    QVERIFY(MetricsRenderer::render(registry).endsWith("x_up{bus=\"redis\"} 0\n"));
}

void TestMetricsRenderer::histogram_data()
{
    QTest::addColumn<QList<double>>("observations");
    QTest::addColumn<QByteArray>("samples");
    QTest::newRow("none") << QList<double>()
                          << QByteArray("h_seconds_bucket{le=\"0.1\"} 0\nh_seconds_bucket{le=\"1\"} 0\n"
                                        "h_seconds_bucket{le=\"+Inf\"} 0\nh_seconds_sum 0\nh_seconds_count 0\n");
    QTest::newRow("on a bound counts below it")
        << QList<double>{0.1, 1.0}
        << QByteArray("h_seconds_bucket{le=\"0.1\"} 1\nh_seconds_bucket{le=\"1\"} 2\n"
                      "h_seconds_bucket{le=\"+Inf\"} 2\nh_seconds_sum 1.1\nh_seconds_count 2\n");
    QTest::newRow("cumulative, and past the last bound")
        << QList<double>{0.0, 0.5, 0.5, 3.0}
        << QByteArray("h_seconds_bucket{le=\"0.1\"} 1\nh_seconds_bucket{le=\"1\"} 3\n"
                      "h_seconds_bucket{le=\"+Inf\"} 4\nh_seconds_sum 4\nh_seconds_count 4\n");
}

void TestMetricsRenderer::histogram()
{
    QFETCH(QList<double>, observations);
    QFETCH(QByteArray, samples);
    MetricsRegistry::Histogram histogram{0.1, 1};
    for (double value : observations)
        histogram.observe(value);
    MetricsRegistry registry;
    registry.addHistogram("h_seconds", "Durations.", &histogram);
    QCOMPARE(MetricsRenderer::render(registry),
             QByteArray("# HELP h_seconds Durations.\n# TYPE h_seconds histogram\n") + samples);
}

void TestMetricsRenderer::empty()
{
    QCOMPARE(MetricsRenderer::render(MetricsRegistry()), QByteArray());
    QCOMPARE(MetricsRenderer::contentType(), QByteArray("text/plain; version=0.0.4; charset=utf-8"));
}

QTEST_APPLESS_MAIN(TestMetricsRenderer)
#include "TestMetricsRenderer.moc"
