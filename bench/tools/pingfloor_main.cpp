// keyhole-bench-ping-floor: the idle-CPU yardstick (bench/run.sh, idle section). Holds N loopback
// connections on a bare epoll loop and pings them on the proxy's schedule (PingFloor.h).
//   keyhole-bench-ping-floor --count N [--mean-period-ms 12500] [--tick-ms 500] [--seconds 20]
// Prints "pings <n> answers <m> cpu <s> s over <w> s" on stdout; exits 1 when the run could not be made.
#include "PingFloor.h"

#include <QCommandLineParser>
#include <QCoreApplication>

#include <cstdio>

int main(int argc, char *argv[])
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-bench-ping-floor"));
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("The least CPU that keeping N idle connections alive on the proxy's ping schedule costs"));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("count"), QStringLiteral("Connections."), QStringLiteral("N"), QStringLiteral("1000")},
        {QStringLiteral("mean-period-ms"), QStringLiteral("Mean time between two pings of one connection."),
         QStringLiteral("MS"), QStringLiteral("12500")},
        {QStringLiteral("tick-ms"), QStringLiteral("Pings due are sent together on this tick."), QStringLiteral("MS"),
         QStringLiteral("500")},
        {QStringLiteral("seconds"), QStringLiteral("How long to measure."), QStringLiteral("S"), QStringLiteral("20")},
    });
    parser.process(app);

    PingFloor::Options options;
    bool ok[4] = {};
    options.connections = parser.value(QStringLiteral("count")).toInt(&ok[0]);
    options.meanPeriodMs = parser.value(QStringLiteral("mean-period-ms")).toInt(&ok[1]);
    options.tickMs = parser.value(QStringLiteral("tick-ms")).toInt(&ok[2]);
    options.measureSeconds = parser.value(QStringLiteral("seconds")).toDouble(&ok[3]);
    if (!ok[0] || !ok[1] || !ok[2] || !ok[3] || options.connections < 1 || options.meanPeriodMs < 1
        || options.tickMs < 1 || options.measureSeconds <= 0) {
        std::fprintf(stderr,
                     "keyhole-bench-ping-floor: --count, --mean-period-ms, --tick-ms and --seconds must "
                     "be positive numbers\n");
        return 2;
    }
    const PingFloor::Result result = PingFloor(options).run();
    if (!result.error.empty()) {
        std::fprintf(stderr, "keyhole-bench-ping-floor: %s\n", result.error.c_str());
        return 1;
    }
    std::printf("pings %lld answers %lld cpu %.3f s over %.1f s\n", static_cast<long long>(result.pings),
                static_cast<long long>(result.answers), result.cpuSeconds, result.wallSeconds);
    return 0;
}
