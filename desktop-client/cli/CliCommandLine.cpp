#include "CliCommandLine.h"

#include "util/EventLoopChoice.h"
#include "util/ConfigFile.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QDir>

namespace keyhole::cli {

namespace {

// What ngrok and cloudflared users type for the local service: a bare port or host:port means plain
// http there. Empty with *error set when a bare port is out of range.
QUrl targetFromArgument(const QString &value, QString *error)
{
    if (value.contains(QLatin1String("://")))
        return QUrl(value, QUrl::StrictMode);
    bool isNumber = false;
    const int port = value.toInt(&isNumber);
    if (!isNumber)
        return QUrl(QStringLiteral("http://") + value, QUrl::StrictMode);
    if (port < 1 || port > 65535) {
        *error = QStringLiteral("the target port %1 is not between 1 and 65535").arg(value);
        return {};
    }
    return QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
}

// The flags, in the order --help lists them.
struct Flags {
    explicit Flags(const QString &defaultKey)
        : key(QStringLiteral("key"),
              QStringLiteral("Private key file (PEM, P-256); created on first run with mode 0600. Default: %1.")
                  .arg(QDir::toNativeSeparators(defaultKey)),
              QStringLiteral("FILE"), defaultKey)
    {
    }

    QCommandLineOption proxy{QStringLiteral("proxy"), QStringLiteral("URL of the keyhole proxy (http:// or https://)."),
                             QStringLiteral("URL"), QStringLiteral("http://localhost:8080")};
    QCommandLineOption port{QStringLiteral("port"),
                            QStringLiteral("Local port to expose, same as --target http://127.0.0.1:<N>."),
                            QStringLiteral("N")};
    QCommandLineOption target{
        QStringLiteral("target"),
        QStringLiteral("URL of the local service, e.g. http://127.0.0.1:3000 or https://host:8443; a bare port "
                       "(3000) or host:port (app.local:3000) means http."),
        QStringLiteral("URL")};
    QCommandLineOption key;
    QCommandLineOption name{QStringLiteral("name"),
                            QStringLiteral("Tunnel name (a-z, 0-9, '-'): another stable hostname for the same key."),
                            QStringLiteral("NAME")};
    QCommandLineOption stateFile{
        QStringLiteral("state-file"),
        QStringLiteral("Write {\"hostname\",\"url\",\"label\"} as JSON to FILE once registered."),
        QStringLiteral("FILE")};
    QCommandLineOption caFile{QStringLiteral("ca-file"),
                              QStringLiteral("Extra CA certificates (PEM) for an https proxy or an https target."),
                              QStringLiteral("FILE")};
    QCommandLineOption hostHeader{
        QStringLiteral("host-header"),
        QStringLiteral("Host header for the local service: 'rewrite' (the target's host:port) or a literal "
                       "value. Default: keep the visitor's Host."),
        QStringLiteral("rewrite|VALUE")};
    QCommandLineOption logFormat{QStringLiteral("log-format"),
                                 QStringLiteral("Format of the diagnostics on stderr: text or json."),
                                 QStringLiteral("FORMAT"), QStringLiteral("text")};
    // Read from argv by main() before the application exists (util::chooseEventLoop); listed here
    // for --help and so that the parser accepts it.
    QCommandLineOption eventLoop{QStringLiteral("event-loop"), util::eventLoopOptionDescription(),
                                 QStringLiteral("LOOP")};
    QCommandLineOption metricsListen{QStringLiteral("metrics-listen"),
                                     QStringLiteral("Serve GET /metrics (Prometheus) on this plain-HTTP ADDR:PORT."),
                                     QStringLiteral("ADDR:PORT")};
    QCommandLineOption config{QStringLiteral("config"),
                              QStringLiteral("Read options from FILE: one 'name = value' per line, names as the long "
                                             "flags; flags given here win."),
                              QStringLiteral("FILE")};

    QList<QCommandLineOption> all() const
    {
        return {proxy,  port,       target,    key,           name,   stateFile,
                caFile, hostHeader, logFormat, metricsListen, config, eventLoop};
    }
};

CliCommandLine::Result parseArguments(const QStringList &arguments);

} // namespace

CliCommandLine::Result CliCommandLine::parse(const QStringList &arguments)
{
    const util::ConfigFile::Layered layered = util::ConfigFile::layer(
        arguments, Flags(client::ClientSettings::defaultKeyPath()).all(),
        {{QStringLiteral("port"), QStringLiteral("target")}}, QStringLiteral("config"), {QStringLiteral("event-loop")});
    if (!layered.ok()) {
        Result result;
        result.error = layered.error;
        return result;
    }
    Result result = parseArguments(layered.arguments);
    if (result.action == Action::Fail) {
        result.error = util::ConfigFile::attribute(
            layered, result.error, [](const QStringList &reparsed) { return parseArguments(reparsed).error; });
    }
    return result;
}

namespace {

CliCommandLine::Result parseArguments(const QStringList &arguments)
{
    using Action = CliCommandLine::Action;
    using Result = CliCommandLine::Result;
    using Settings = CliCommandLine::Settings;
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Exposes a local HTTP service on a public hostname through a keyhole proxy.\n"
                       "The hostname is derived from your key, so the same key always gets the same hostname."));
    const QCommandLineOption helpOption = parser.addHelpOption();
    const QCommandLineOption versionOption = parser.addVersionOption();
    const Flags f(client::ClientSettings::defaultKeyPath());
    parser.addOptions(f.all());

    Result result;
    auto fail = [&result](const QString &error, bool suggestHelp = false) {
        result.action = Action::Fail;
        result.error = error;
        result.suggestHelp = suggestHelp;
        result.settings = {};
        return result;
    };

    if (!parser.parse(arguments))
        return fail(parser.errorText(), true);
    if (parser.isSet(helpOption)) {
        result.action = Action::ShowHelp;
        result.text = parser.helpText();
        return result;
    }
    if (parser.isSet(versionOption)) {
        // What QCommandLineParser::showVersion() prints.
        result.action = Action::ShowVersion;
        result.text = QCoreApplication::applicationName() + QLatin1Char(' ') + QCoreApplication::applicationVersion()
            + QLatin1Char('\n');
        return result;
    }
    if (!parser.positionalArguments().isEmpty())
        return fail(QStringLiteral("unexpected argument \"%1\"; try --help").arg(parser.positionalArguments().first()));

    Settings &settings = result.settings;
    const QString logFormat = parser.value(f.logFormat);
    if (logFormat != QLatin1String("text") && logFormat != QLatin1String("json"))
        return fail(QStringLiteral("--log-format must be text or json"));
    settings.logFormat = logFormat == QLatin1String("json") ? util::LogFormat::Json : util::LogFormat::Text;

    client::ClientSettings &client = settings.client;
    client.proxyUrl = QUrl(parser.value(f.proxy), QUrl::StrictMode);
    if (parser.isSet(f.port) && parser.isSet(f.target))
        return fail(QStringLiteral("give either --port or --target, not both"));
    if (parser.isSet(f.port)) {
        bool ok = false;
        const int port = parser.value(f.port).toInt(&ok);
        if (!ok || port < 1 || port > 65535)
            return fail(QStringLiteral("--port must be a number between 1 and 65535"));
        client.target = QUrl(QStringLiteral("http://127.0.0.1:%1").arg(port));
    } else if (parser.isSet(f.target)) {
        QString error;
        client.target = targetFromArgument(parser.value(f.target), &error);
        if (!error.isEmpty())
            return fail(error);
    }
    client.keyPath = parser.value(f.key);
    client.name = parser.value(f.name);
    client.caFile = parser.value(f.caFile);
    client.hostHeader = parser.value(f.hostHeader);
    settings.stateFile = parser.value(f.stateFile);
    if (parser.isSet(f.metricsListen)) {
        const QString metrics = parser.value(f.metricsListen);
        const qsizetype colon = metrics.lastIndexOf(u':');
        bool portOk = false;
        const uint port = colon < 0 ? 0 : metrics.mid(colon + 1).toUInt(&portOk);
        QString host = colon < 0 ? QString() : metrics.left(colon);
        if (host.startsWith(u'[') && host.endsWith(u']'))
            host = host.mid(1, host.size() - 2);
        if (!portOk || port > 65535
            || !settings.metricsAddress.setAddress(host.isEmpty() ? QStringLiteral("127.0.0.1") : host))
            return fail(
                QStringLiteral("--metrics-listen: expected ADDR:PORT such as 127.0.0.1:9101, got '%1'").arg(metrics));
        settings.metricsPort = quint16(port);
        settings.metricsListener = true;
    }

    if (const QString problem = client.validate(); !problem.isEmpty())
        return fail(problem);
    result.action = Action::Run;
    return result;
}

} // namespace

} // namespace keyhole::cli
