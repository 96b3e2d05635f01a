// keyhole-cli: exposes a local HTTP service through a keyhole proxy.
// Contract: stdout carries only "Tunnel online: <url>" and one line per request; diagnostics go to
// stderr; WebSockets add "WS <path> open" and "WS <path> closed <code> <ms>ms <bytes in>/<bytes out>"
// (or "WS <path> refused <status> <ms>ms"). Exit codes: 0 clean exit, 1 runtime error, 2 bad usage or
// unreadable key, 3 registration refused for good (a refusal the proxy marks as worth retrying is
// retried with backoff), 4 replaced by another client with the same key.

#include "CliCommandLine.h"
#include "CliMetrics.h"
#include "ClientSettings.h"
#include "KeyFile.h"
#include "ReplaceFile.h"
#include "TunnelClient.h"
#include "TunnelInfo.h"
#include "util/AllocatorTuning.h"
#include "util/BatchedOutput.h"
#include "util/EventLoopChoice.h"
#include "ClientLogging.h"
#include "util/LogSafe.h"
#include "util/Logging.h"
#include "util/MetricsServer.h"
#include "util/TerminationWatcher.h"

#include <QCoreApplication>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTextStream>
#include <QTimer>

#include <cstdio>
#include <memory>

using namespace keyhole;

namespace {

enum ExitCode { ExitOk = 0, ExitRuntime = 1, ExitUsage = 2, ExitRefused = 3, ExitReplaced = 4 };

// One line per request: written once per event-loop pass rather than one write() each.
void printOut(const QString &line)
{
    util::BatchedOutput::standardOutput().writeLine(QByteArray(line.toUtf8() + '\n'));
}

void printErr(const QString &line)
{
    const QByteArray bytes = QByteArrayLiteral("keyhole-cli: ") + line.toUtf8() + '\n';
    util::BatchedOutput::standardError().writeLine(bytes, /*urgent=*/true); // after pending log lines
}

bool writeStateFile(const QString &path, const client::TunnelInfo &tunnel, QString *error)
{
    const QJsonObject state{{QStringLiteral("hostname"), tunnel.hostname},
                            {QStringLiteral("url"), tunnel.publicUrl},
                            {QStringLiteral("label"), tunnel.label}};
    // Replaced in one step, and a symlink planted at the path is replaced rather than written through.
    const auto readable = client::ReplaceFile::kOwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    return client::ReplaceFile::write(path, QJsonDocument(state).toJson(QJsonDocument::Compact) + '\n', readable,
                                      error);
}

} // namespace

int main(int argc, char *argv[])
{
    keyhole::util::tuneAllocatorForLargeBuffers();
    const keyhole::util::EventLoopChoice eventLoop = keyhole::util::chooseEventLoop(argc, argv);
    if (!eventLoop.error.isEmpty()) {
        QTextStream(stderr) << "keyhole-cli: " << eventLoop.error << "\nTry 'keyhole-cli --help'.\n";
        return 2;
    }
    keyhole::util::installEventLoop(eventLoop.kind);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEYHOLE_VERSION));

    const cli::CliCommandLine::Result parsed = cli::CliCommandLine::parse(QCoreApplication::arguments());
    switch (parsed.action) {
    case cli::CliCommandLine::Action::ShowHelp:
    case cli::CliCommandLine::Action::ShowVersion:
        std::fputs(qPrintable(parsed.text), stdout);
        return ExitOk;
    case cli::CliCommandLine::Action::Fail:
        printErr(parsed.error);
        if (parsed.suggestHelp)
            printErr(QStringLiteral("try --help"));
        return ExitUsage;
    case cli::CliCommandLine::Action::Run:
        break;
    }
    const client::ClientSettings &settings = parsed.settings.client;
    const QString &stateFile = parsed.settings.stateFile;
    util::installLogFormat(parsed.settings.logFormat);
    util::BatchedOutput::standardOutput().enableBatching();
    util::BatchedOutput::standardError().enableBatching();

    client::KeyFile::Result key = client::KeyFile::loadOrCreate(settings.keyPath);
    if (!key) {
        printErr(key.error);
        return ExitUsage;
    }

    client::TunnelClient tunnel(settings, std::move(*key.key));
    qCInfo(lcClient, "tunnel label %s, local service %s", qPrintable(tunnel.label()),
           qPrintable(settings.targetAuthority()));

    std::unique_ptr<cli::CliMetrics> metrics;
    std::unique_ptr<util::MetricsServer> metricsServer;
    if (parsed.settings.metricsListener) {
        metrics = std::make_unique<cli::CliMetrics>(&tunnel);
        metricsServer = std::make_unique<util::MetricsServer>([&metrics] { return metrics->render(); });
        QString error;
        if (!metricsServer->listen(parsed.settings.metricsAddress, parsed.settings.metricsPort, &error)) {
            printErr(error);
            return ExitUsage;
        }
        qCInfo(lcClient, "metrics on http://%s:%d/metrics", qPrintable(parsed.settings.metricsAddress.toString()),
               int(metricsServer->port()));
    }

    int exitCode = ExitOk;
    bool exiting = false;
    auto exitWith = [&](int code) {
        if (exiting)
            return;
        exiting = true;
        exitCode = code;
        QCoreApplication::exit(code);
    };

    QObject::connect(&tunnel, &client::TunnelClient::registered, &app, [&](const client::TunnelInfo &info) {
        printOut(QStringLiteral("Tunnel online: %1").arg(info.publicUrl));
        if (stateFile.isEmpty())
            return;
        QString error;
        if (!writeStateFile(stateFile, info, &error)) {
            printErr(QStringLiteral("cannot write the state file %1: %2").arg(stateFile, error));
            tunnel.stop();
            exitWith(ExitRuntime);
        }
    });
    QObject::connect(&tunnel, &client::TunnelClient::requestFinished, &app, [](const client::RequestRecord &record) {
        // Built as bytes: this runs for every request. Method and path come from a visitor: no
        // control characters reach the terminal.
        QByteArray line;
        line.reserve(record.method.size() + record.path.size() + 24);
        util::appendLogSafe(line, record.method);
        line.append(' ');
        util::appendLogSafe(line, record.path);
        line.append(' ');
        line.append(QByteArray::number(record.status)).append(' ');
        line.append(QByteArray::number(record.durationMs)).append("ms\n");
        util::BatchedOutput::standardOutput().writeLine(line);
    });
    QObject::connect(&tunnel, &client::TunnelClient::webSocketActivity, &app, [](const client::RequestRecord &record) {
        const QString path = QString::fromUtf8(record.path);
        switch (record.wsEvent) {
        case client::RequestRecord::WsEvent::Opened:
            printOut(QStringLiteral("WS %1 open").arg(path));
            break;
        case client::RequestRecord::WsEvent::Refused:
            printOut(QStringLiteral("WS %1 refused %2 %3ms").arg(path).arg(record.status).arg(record.durationMs));
            break;
        case client::RequestRecord::WsEvent::Closed:
            printOut(QStringLiteral("WS %1 closed %2 %3ms %4/%5")
                         .arg(path)
                         .arg(record.closeCode)
                         .arg(record.durationMs)
                         .arg(record.bytesIn)
                         .arg(record.bytesOut));
            break;
        case client::RequestRecord::WsEvent::None:
            break;
        }
    });
    QObject::connect(&tunnel, &client::TunnelClient::refused, &app, [&](const QString &reason, const QByteArray &code) {
        printErr(QStringLiteral("registration refused: %1%2")
                     .arg(reason, code.isEmpty() ? QString() : QStringLiteral(" (%1)").arg(QString::fromLatin1(code))));
        exitWith(ExitRefused);
    });
    // Emitted once by the core, which also logs what happened; this adds the fix in the CLI's terms. (A
    // local service that stops answering, and answers again, is logged by the core at each change.)
    QObject::connect(&tunnel, &client::TunnelClient::localHostRefused, &app, [](const QString &description) {
        printErr(QStringLiteral("%1; restart with --host-header rewrite so the service sees its own host:port, or "
                                "allow the public hostname in its settings (Vite: server.allowedHosts)")
                     .arg(description));
    });
    QObject::connect(&tunnel, &client::TunnelClient::stateChanged, &app, [&](client::ClientState state) {
        if (state == client::ClientState::Replaced) {
            printErr(QStringLiteral("another client with the same key took over this tunnel; not reconnecting"));
            exitWith(ExitReplaced);
        }
    });

    util::TerminationWatcher termination;
    int signalCount = 0;
    QObject::connect(&termination, &util::TerminationWatcher::terminationRequested, &app,
                     [&](const QString &signalName) {
                         if (++signalCount > 1) {
                             // Asked twice: do not wait for the goodbye any longer.
                             exiting = true;
                             exitCode = ExitOk;
                             QCoreApplication::exit(ExitOk);
                             return;
                         }
                         qCInfo(lcClient, "%s received; closing the tunnel", qPrintable(signalName));
                         QObject::connect(&tunnel, &client::TunnelClient::stopped, &app, [&] { exitWith(ExitOk); });
                         // The goodbye must not hold the exit up for long.
                         QTimer::singleShot(4000, &app, [&] { exitWith(ExitOk); });
                         tunnel.stop();
                     });

    QTimer::singleShot(0, &tunnel, &client::TunnelClient::start);
    const int code = app.exec();
    return exiting ? exitCode : code;
}
