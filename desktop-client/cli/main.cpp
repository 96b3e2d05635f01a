// keyhole-cli: exposes a local HTTP service through a keyhole proxy.
// Contract: stdout carries only "Tunnel online: <url>" and one line per request; diagnostics go to
// stderr; WebSockets add "WS <path> open" and "WS <path> closed <code> <ms>ms <bytes in>/<bytes out>"
// (or "WS <path> refused <status> <ms>ms"). Exit codes: 0 clean exit, 1 runtime error, 2 bad usage or
// unreadable key, 3 registration refused for good (a refusal the proxy marks as worth retrying is
// retried with backoff), 4 replaced by another client with the same key.

#include "ClientSettings.h"
#include "KeyFile.h"
#include "ReplaceFile.h"
#include "TunnelClient.h"
#include "util/AllocatorTuning.h"
#include "util/BatchedOutput.h"
#include "util/EventLoopChoice.h"
#include "util/Logging.h"
#include "util/TerminationWatcher.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTimer>

#include <cstdio>

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

bool writeStateFile(const QString &path, const protocol::RegistrationResponse &response, QString *error)
{
    const QJsonObject state{{QStringLiteral("hostname"), response.hostname},
                            {QStringLiteral("url"), response.publicUrl},
                            {QStringLiteral("label"), response.label}};
    // Replaced in one step, and a symlink planted at the path is replaced rather than written through.
    const auto readable = client::ReplaceFile::kOwnerOnly | QFileDevice::ReadGroup | QFileDevice::ReadOther;
    return client::ReplaceFile::write(path, QJsonDocument(state).toJson(QJsonDocument::Compact) + '\n', readable, error);
}

} // namespace

int main(int argc, char *argv[])
{
    keyhole::util::tuneAllocatorForLargeBuffers();
    keyhole::util::preferPlainEventLoop();
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEYHOLE_VERSION));

    const QString defaultKey = client::ClientSettings::defaultKeyPath();

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral(
        "Exposes a local HTTP service on a public hostname through a keyhole proxy.\n"
        "The hostname is derived from your key, so the same key always gets the same hostname."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const QCommandLineOption proxyOption(
        QStringLiteral("proxy"), QStringLiteral("URL of the keyhole proxy (http:// or https://)."), QStringLiteral("URL"),
        QStringLiteral("http://localhost:8080"));
    const QCommandLineOption portOption(
        QStringLiteral("port"), QStringLiteral("Local port to expose, same as --target http://127.0.0.1:<N>."),
        QStringLiteral("N"));
    const QCommandLineOption targetOption(
        QStringLiteral("target"),
        QStringLiteral("URL of the local service, e.g. http://127.0.0.1:3000 or https://host:8443."),
        QStringLiteral("URL"));
    const QCommandLineOption keyOption(
        QStringLiteral("key"),
        QStringLiteral("Private key file (PEM, P-256); created on first run with mode 0600. Default: %1.")
            .arg(QDir::toNativeSeparators(defaultKey)),
        QStringLiteral("FILE"), defaultKey);
    const QCommandLineOption nameOption(
        QStringLiteral("name"),
        QStringLiteral("Tunnel name (a-z, 0-9, '-'): another stable hostname for the same key."),
        QStringLiteral("NAME"));
    const QCommandLineOption stateFileOption(
        QStringLiteral("state-file"),
        QStringLiteral("Write {\"hostname\",\"url\",\"label\"} as JSON to FILE once registered."),
        QStringLiteral("FILE"));
    const QCommandLineOption caFileOption(
        QStringLiteral("ca-file"),
        QStringLiteral("Extra CA certificates (PEM) for an https proxy or an https target."), QStringLiteral("FILE"));
    const QCommandLineOption hostHeaderOption(
        QStringLiteral("host-header"),
        QStringLiteral("Host header for the local service: 'rewrite' (the target's host:port) or a literal "
                       "value. Default: keep the visitor's Host."),
        QStringLiteral("rewrite|VALUE"));
    const QCommandLineOption logFormatOption(
        QStringLiteral("log-format"), QStringLiteral("Format of the diagnostics on stderr: text or json."),
        QStringLiteral("FORMAT"), QStringLiteral("text"));
    parser.addOptions({proxyOption, portOption, targetOption, keyOption, nameOption, stateFileOption, caFileOption,
                       hostHeaderOption, logFormatOption});

    if (!parser.parse(QCoreApplication::arguments())) {
        printErr(parser.errorText());
        printErr(QStringLiteral("try --help"));
        return ExitUsage;
    }
    if (parser.isSet(helpOption))
        parser.showHelp(ExitOk);
    if (parser.isSet(versionOption))
        parser.showVersion();
    if (!parser.positionalArguments().isEmpty()) {
        printErr(QStringLiteral("unexpected argument \"%1\"; try --help").arg(parser.positionalArguments().first()));
        return ExitUsage;
    }

    const QString logFormat = parser.value(logFormatOption);
    if (logFormat != QLatin1String("text") && logFormat != QLatin1String("json")) {
        printErr(QStringLiteral("--log-format must be text or json"));
        return ExitUsage;
    }
    util::installLogFormat(logFormat == QLatin1String("json") ? util::LogFormat::Json : util::LogFormat::Text);
    util::BatchedOutput::standardOutput().enableBatching();
    util::BatchedOutput::standardError().enableBatching();

    client::ClientSettings settings;
    settings.proxyUrl = QUrl(parser.value(proxyOption), QUrl::StrictMode);
    if (parser.isSet(portOption) && parser.isSet(targetOption)) {
        printErr(QStringLiteral("give either --port or --target, not both"));
        return ExitUsage;
    }
    if (parser.isSet(portOption)) {
        bool ok = false;
        const int port = parser.value(portOption).toInt(&ok);
        if (!ok || port < 1 || port > 65535) {
            printErr(QStringLiteral("--port must be a number between 1 and 65535"));
            return ExitUsage;
        }
        settings.target = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
    } else if (parser.isSet(targetOption)) {
        settings.target = QUrl(parser.value(targetOption), QUrl::StrictMode);
    }
    settings.keyPath = parser.value(keyOption);
    settings.name = parser.value(nameOption);
    settings.caFile = parser.value(caFileOption);
    settings.hostHeader = parser.value(hostHeaderOption);
    const QString stateFile = parser.value(stateFileOption);

    if (const QString problem = settings.validate(); !problem.isEmpty()) {
        printErr(problem);
        return ExitUsage;
    }

    client::KeyFile::Result key = client::KeyFile::loadOrCreate(settings.keyPath);
    if (!key) {
        printErr(key.error);
        return ExitUsage;
    }

    client::TunnelClient tunnel(settings, std::move(*key.key));
    qCInfo(lcClient, "tunnel label %s, local service %s", qPrintable(tunnel.label()),
           qPrintable(settings.targetAuthority()));

    int exitCode = ExitOk;
    bool exiting = false;
    auto exitWith = [&](int code) {
        if (exiting)
            return;
        exiting = true;
        exitCode = code;
        QCoreApplication::exit(code);
    };

    QObject::connect(&tunnel, &client::TunnelClient::registered, &app,
                     [&](const protocol::RegistrationResponse &response) {
                         printOut(QStringLiteral("Tunnel online: %1").arg(response.publicUrl));
                         if (stateFile.isEmpty())
                             return;
                         QString error;
                         if (!writeStateFile(stateFile, response, &error)) {
                             printErr(QStringLiteral("cannot write the state file %1: %2").arg(stateFile, error));
                             tunnel.stop();
                             exitWith(ExitRuntime);
                         }
                     });
    QObject::connect(&tunnel, &client::TunnelClient::requestFinished, &app, [](const client::RequestRecord &record) {
        // Built as bytes: this runs for every request.
        QByteArray line;
        line.reserve(record.method.size() + record.path.size() + 24);
        line.append(record.method).append(' ').append(record.path).append(' ');
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
