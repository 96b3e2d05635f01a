// keyhole-bench-ws: the WebSocket part of bench/run.sh.
//   keyhole-bench-ws echo [--listen ADDR:PORT]
//       prints "keyhole-bench-ws echo listening on <addr>:<port>" and echoes every message.
//   keyhole-bench-ws client --connect ADDR:PORT [--host HOST] [--path /p] --connections N --size BYTES
//                           --duration-ms MS [--warmup-ms MS] [--open-timeout-ms MS]
//       closed loop on every connection; prints ONE JSON line:
//       {"ok":true,"messages":..,"msgs_per_s":..,"p50_ms":..,"p99_ms":..,"errors":..}
//       or {"ok":false,"reason":".."} with exit code 3 when the upgrade is refused / cannot connect.
#include "RawWsClient.h"
#include "WsEchoServer.h"

#include <QCommandLineParser>
#include "util/EventLoopChoice.h"

#include <QCoreApplication>
#include <QElapsedTimer>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <algorithm>
#include <cstdio>

namespace {

void printLine(const QByteArray &line)
{
    std::fwrite(line.constData(), 1, size_t(line.size()), stdout);
    std::fputc('\n', stdout);
    std::fflush(stdout);
}

bool splitHostPort(const QString &value, QString *host, quint16 *port)
{
    const qsizetype colon = value.lastIndexOf(QLatin1Char(':'));
    bool ok = false;
    if (colon <= 0)
        return false;
    const uint number = value.mid(colon + 1).toUInt(&ok);
    if (!ok || number > 65535)
        return false;
    *host = value.left(colon);
    *port = quint16(number);
    return true;
}

int runEcho(const QCommandLineParser &parser)
{
    QString host;
    quint16 port = 0;
    if (!splitHostPort(parser.value(QStringLiteral("listen")), &host, &port)) {
        std::fprintf(stderr, "bad --listen\n");
        return 2;
    }
    auto *server = new WsEchoServer(qApp);
    if (!server->listen(QHostAddress(host), port)) {
        std::fprintf(stderr, "listen failed: %s\n", qPrintable(server->errorString()));
        return 1;
    }
    printLine(QStringLiteral("keyhole-bench-ws echo listening on %1:%2").arg(host).arg(server->port()).toUtf8());
    return QCoreApplication::exec();
}

double percentileMs(QVector<qint64> &sorted, double p)
{
    if (sorted.isEmpty())
        return 0;
    const qsizetype index = std::min<qsizetype>(sorted.size() - 1, qsizetype(p * double(sorted.size())));
    return double(sorted[index]) / 1e6;
}

int runClient(const QCommandLineParser &parser)
{
    QString address;
    quint16 port = 0;
    if (!splitHostPort(parser.value(QStringLiteral("connect")), &address, &port)) {
        std::fprintf(stderr, "bad --connect\n");
        return 2;
    }
    const QByteArray host = parser.isSet(QStringLiteral("host")) ? parser.value(QStringLiteral("host")).toLatin1()
                                                                 : parser.value(QStringLiteral("connect")).toLatin1();
    const QByteArray path = parser.value(QStringLiteral("path")).toLatin1();
    const int connections = std::max(1, parser.value(QStringLiteral("connections")).toInt());
    const int size = std::max(0, parser.value(QStringLiteral("size")).toInt());
    const int durationMs = std::max(100, parser.value(QStringLiteral("duration-ms")).toInt());
    const int warmupMs = std::max(0, parser.value(QStringLiteral("warmup-ms")).toInt());
    const int openTimeoutMs = std::max(100, parser.value(QStringLiteral("open-timeout-ms")).toInt());

    QByteArray payload(size, 'x');
    for (int i = 0; i < size; ++i)
        payload[i] = char('a' + i % 26);

    QElapsedTimer clock;
    clock.start();
    QList<RawWsClient *> clients;
    int openCount = 0;
    QString failure;
    bool measuring = false;
    int alive = connections;

    auto finish = [&] {
        QVector<qint64> all;
        qint64 errors = 0;
        for (RawWsClient *client : clients) {
            client->recording = false;
            client->halt();
            all += client->samplesNs;
            errors += client->errors;
        }
        std::sort(all.begin(), all.end());
        const double seconds = double(durationMs) / 1000.0;
        QJsonObject result{{QStringLiteral("ok"), true},
                           {QStringLiteral("connections"), connections},
                           {QStringLiteral("size"), size},
                           {QStringLiteral("messages"), qint64(all.size())},
                           {QStringLiteral("msgs_per_s"), double(all.size()) / seconds},
                           {QStringLiteral("p50_ms"), percentileMs(all, 0.50)},
                           {QStringLiteral("p99_ms"), percentileMs(all, 0.99)},
                           {QStringLiteral("errors"), errors}};
        printLine(QJsonDocument(result).toJson(QJsonDocument::Compact));
        QCoreApplication::exit(all.isEmpty() ? 1 : 0);
    };
    auto refuse = [&](const QString &reason) {
        printLine(QJsonDocument(QJsonObject{{QStringLiteral("ok"), false}, {QStringLiteral("reason"), reason}})
                      .toJson(QJsonDocument::Compact));
        QCoreApplication::exit(3);
    };

    for (int i = 0; i < connections; ++i) {
        auto *client = new RawWsClient(&clock, qApp);
        clients.append(client);
        QObject::connect(client, &RawWsClient::failed, qApp, [&, client](const QString &reason) {
            if (!measuring) {
                if (failure.isEmpty()) {
                    failure = reason;
                    refuse(reason);
                }
                return;
            }
            std::fprintf(stderr, "connection lost: %s\n", qPrintable(reason));
            Q_UNUSED(client);
            if (--alive == 0)
                finish();
        });
        QObject::connect(client, &RawWsClient::opened, qApp, [&] {
            if (++openCount < connections)
                return;
            measuring = true;
            for (RawWsClient *c : clients)
                c->run();
            QTimer::singleShot(warmupMs, qApp, [&] {
                for (RawWsClient *c : clients)
                    c->recording = true;
                QTimer::singleShot(durationMs, qApp, finish);
            });
        });
        client->open(address, port, host, path, payload);
    }
    QTimer::singleShot(openTimeoutMs, qApp, [&] {
        if (!measuring && failure.isEmpty()) {
            failure = QStringLiteral("upgrade not answered within %1 ms").arg(openTimeoutMs);
            refuse(failure);
        }
    });
    return QCoreApplication::exec();
}

} // namespace

int main(int argc, char *argv[])
{
    keyhole::util::preferPlainEventLoop(); // the same event loop as the programs it measures
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-bench-ws"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("WebSocket echo backend and round-trip load client"));
    parser.addHelpOption();
    parser.addPositionalArgument(QStringLiteral("mode"), QStringLiteral("echo | client"));
    parser.addOptions({
        {QStringLiteral("listen"), QStringLiteral("echo: address to listen on"), QStringLiteral("ADDR:PORT"),
         QStringLiteral("127.0.0.1:0")},
        {QStringLiteral("connect"), QStringLiteral("client: address to dial"), QStringLiteral("ADDR:PORT")},
        {QStringLiteral("host"), QStringLiteral("client: Host header (default: the --connect value)"),
         QStringLiteral("HOST")},
        {QStringLiteral("path"), QStringLiteral("client: request path"), QStringLiteral("PATH"), QStringLiteral("/")},
        {QStringLiteral("connections"), QStringLiteral("client: parallel connections"), QStringLiteral("N"),
         QStringLiteral("1")},
        {QStringLiteral("size"), QStringLiteral("client: message size in bytes"), QStringLiteral("BYTES"),
         QStringLiteral("64")},
        {QStringLiteral("duration-ms"), QStringLiteral("client: measured time"), QStringLiteral("MS"),
         QStringLiteral("10000")},
        {QStringLiteral("warmup-ms"), QStringLiteral("client: unmeasured time first"), QStringLiteral("MS"),
         QStringLiteral("1000")},
        {QStringLiteral("open-timeout-ms"), QStringLiteral("client: time allowed for all upgrades"),
         QStringLiteral("MS"), QStringLiteral("10000")},
    });
    parser.process(app);
    const QStringList args = parser.positionalArguments();
    const QString mode = args.value(0);
    if (mode == QLatin1String("echo"))
        return runEcho(parser);
    if (mode == QLatin1String("client"))
        return runClient(parser);
    std::fprintf(stderr, "usage: keyhole-bench-ws echo|client [options]; see --help\n");
    return 2;
}
