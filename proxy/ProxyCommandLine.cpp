#include "ProxyCommandLine.h"

#include "bus/redis/RedisUrl.h"
#include "util/EventLoopChoice.h"
#include "util/ConfigFile.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QRegularExpression>
#include <QTextStream>

#include <functional>

namespace keyhole::proxy {

namespace {

struct Flags {
    QCommandLineOption listen{"listen", "Address and port to listen on for visitors and clients.", "ADDR:PORT",
                              "0.0.0.0:8080"};
    QCommandLineOption domain{"domain", "Domain whose subdomains are tunnels (<label>.<domain>).", "DOMAIN",
                              "localhost"};
    QCommandLineOption publicUrl{"public-url", "URL clients dial and sign for (default: http[s]://<domain>[:<port>]).",
                                 "URL"};
    QCommandLineOption tlsCert{"tls-cert", "PEM certificate chain (wildcard for *.<domain>); enables https/wss.",
                               "FILE"};
    QCommandLineOption tlsKey{"tls-key", "PEM private key of --tls-cert.", "FILE"};
    QCommandLineOption authorizedKeys{"authorized-keys",
                                      "File of key labels allowed to register, one per line, # comments. "
                                      "Without it anyone may register.",
                                      "FILE"};
    QCommandLineOption trustedProxy{"trusted-proxy",
                                    "Address or subnet (10.0.0.0/8) of a proxy in front of us whose "
                                    "X-Forwarded-* headers are kept. Repeatable.",
                                    "ADDR"};
    QCommandLineOption pathRouting{"path-routing",
                                   "Also serve tunnels at <public-url>/proxy/request/<label>/ (on|off). All "
                                   "tunnels then share one origin: cookies and storage of one are seen by all.",
                                   "on|off", "on"};
    QCommandLineOption requestTimeout{"request-timeout",
                                      "Seconds to wait for the head of a tunnel's answer before 504 (a body "
                                      "that keeps flowing is not cut).",
                                      "SECONDS", "30"};
    QCommandLineOption bodyIdleTimeout{"body-idle-timeout",
                                       "Seconds a streamed body may move no byte either way before the "
                                       "exchange is cut on both ends.",
                                       "SECONDS", "120"};
    QCommandLineOption maxRequestBody{"max-request-body", "Largest request body in bytes (413 beyond; 0 = no limit).",
                                      "BYTES", "104857600"};
    QCommandLineOption maxResponseBody{"max-response-body",
                                       "Largest response body in bytes (502, or cut once the head is sent; "
                                       "0 = no limit).",
                                       "BYTES", "0"};
    QCommandLineOption maxBody{"max-body", "Shorthand: sets --max-request-body and --max-response-body.", "BYTES"};
    QCommandLineOption maxHead{"max-head-bytes", "Largest request line + headers in bytes (431 beyond).", "BYTES",
                               "32768"};
    QCommandLineOption headTimeout{"head-timeout", "Seconds a visitor has to send a request's headers.", "SECONDS",
                                   "10"};
    QCommandLineOption maxHeaders{"max-headers", "Most header fields in one request (431 beyond).", "N", "100"};
    QCommandLineOption maxUrl{"max-url-bytes", "Longest request target in bytes (414 beyond).", "BYTES", "8192"};
    QCommandLineOption idleTimeout{"idle-timeout", "Seconds an idle keep-alive connection stays open.", "SECONDS",
                                   "60"};
    QCommandLineOption sendTimeout{"send-timeout",
                                   "Seconds any peer (visitor, WebSocket, client) may take none of the bytes "
                                   "we have for it before it is cut.",
                                   "SECONDS", "60"};
    QCommandLineOption maxConnections{"max-connections",
                                      "Most open sockets at once: visitor connections and WebSockets, client "
                                      "control channels and TLS handshakes (each takes a file descriptor).",
                                      "N", "10000"};
    QCommandLineOption maxPending{"max-pending", "Most unanswered requests per tunnel (503 beyond).", "N", "1000"};
    QCommandLineOption maxWsMessage{"max-ws-message", "Largest WebSocket message in bytes.", "BYTES", "512000"};
    QCommandLineOption maxWebSockets{"max-websockets", "Most open WebSockets per tunnel (503 beyond).", "N", "256"};
    QCommandLineOption rateLimit{"rate-limit",
                                 "Requests per second a tunnel may receive on average (429 beyond); opening a "
                                 "WebSocket counts as one, its messages do not.",
                                 "N", "1000"};
    QCommandLineOption rateBurst{"rate-burst", "Requests a tunnel may receive at once.", "N", "5000"};
    QCommandLineOption wsRate{"ws-rate",
                              "Bytes per second of visitors' WebSocket messages a tunnel may receive; "
                              "past it visitors are read more slowly (0 = no limit).",
                              "BYTES", "0"};
    QCommandLineOption pingInterval{"ping-interval", "Seconds without traffic before the proxy pings a client.",
                                    "SECONDS", "10"};
    QCommandLineOption tunnelTimeout{"tunnel-timeout", "Seconds of silence after which a tunnel is dropped.", "SECONDS",
                                     "30"};
    QCommandLineOption registrationTimeout{"registration-timeout", "Seconds a new control connection has to register.",
                                           "SECONDS", "10"};
    QCommandLineOption logFormat{"log-format", "Log lines as text or json (on stderr).", "FORMAT", "text"};
    QCommandLineOption logLevel{
        "log-level", "Least severe lines logged: debug, info or warning (warning: no access log).", "LEVEL", "info"};
    QCommandLineOption redis{"redis",
                             "Share tunnels with other instances through Redis: redis://[:password@]host:port[/db]. "
                             "Without it the instance works alone.",
                             "URL"};
    QCommandLineOption instanceId{"instance-id",
                                  "This instance's name among several ([A-Za-z0-9_.], at most 32; "
                                  "default: random).",
                                  "ID"};
    QCommandLineOption redisTtl{"redis-ttl", "Seconds a tunnel's ownership lasts in Redis without renewal.", "SECONDS",
                                "10"};
    // Read from argv by main() before the application exists (util::chooseEventLoop); listed here
    // for --help and so that the parser accepts it.
    QCommandLineOption eventLoop{QStringLiteral("event-loop"), util::eventLoopOptionDescription(),
                                 QStringLiteral("LOOP")};
    QCommandLineOption metricsListen{"metrics-listen",
                                     "Serve GET /metrics (Prometheus) on this plain-HTTP ADDR:PORT instead of on "
                                     "the proxy's own host.",
                                     "ADDR:PORT"};
    QCommandLineOption config{"config",
                              "Read options from FILE: one 'name = value' per line, names as the long flags; "
                              "flags given here win. SIGHUP reads it again.",
                              "FILE"};

    QList<QCommandLineOption> all() const
    {
        return {listen,
                domain,
                publicUrl,
                tlsCert,
                tlsKey,
                authorizedKeys,
                trustedProxy,
                pathRouting,
                requestTimeout,
                bodyIdleTimeout,
                maxRequestBody,
                maxResponseBody,
                maxBody,
                maxHead,
                headTimeout,
                maxHeaders,
                maxUrl,
                idleTimeout,
                sendTimeout,
                maxConnections,
                maxPending,
                maxWsMessage,
                maxWebSockets,
                rateLimit,
                rateBurst,
                wsRate,
                pingInterval,
                tunnelTimeout,
                registrationTimeout,
                logFormat,
                logLevel,
                redis,
                instanceId,
                redisTtl,
                metricsListen,
                config,
                eventLoop};
    }
};

bool parseNumber(const QString &text, double min, double max, double *out)
{
    bool ok = false;
    const double value = text.toDouble(&ok);
    if (!ok || value < min || value > max)
        return false;
    *out = value;
    return true;
}

// "ADDR:PORT", "[v6]:PORT" or ":PORT" (every address).
bool parseAddress(const QString &text, QHostAddress *address, quint16 *portOut)
{
    const qsizetype colon = text.lastIndexOf(u':');
    bool portOk = false;
    const uint port = colon < 0 ? 0 : text.mid(colon + 1).toUInt(&portOk);
    QString host = colon < 0 ? QString() : text.left(colon);
    if (host.startsWith(u'[') && host.endsWith(u']'))
        host = host.mid(1, host.size() - 2);
    if (!portOk || port > 65535 || !address->setAddress(host.isEmpty() ? QStringLiteral("0.0.0.0") : host))
        return false;
    *portOut = quint16(port);
    return true;
}

ParsedCommandLine parseArguments(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.setApplicationDescription(
        QStringLiteral("Keyhole proxy: publishes clients' local services as https://<label>.<domain>.\n"
                       "Clients connect to <public-url>/proxy/subscribe; GET /healthz reports health."));
    const QCommandLineOption help = parser.addHelpOption();
    const QCommandLineOption version = parser.addVersionOption();
    Flags f;
    parser.addOptions(f.all());

    ParsedCommandLine result;
    auto fail = [&result](const QString &error) {
        result.error = error;
        result.exitCode = 2;
        result.config.reset();
        return result;
    };

    if (!parser.parse(arguments))
        return fail(parser.errorText());
    if (parser.isSet(help)) {
        QTextStream(stdout) << parser.helpText();
        return result;
    }
    if (parser.isSet(version)) {
        QTextStream(stdout) << QCoreApplication::applicationName() << ' ' << QCoreApplication::applicationVersion()
                            << '\n';
        return result;
    }
    if (!parser.positionalArguments().isEmpty())
        return fail(QStringLiteral("unexpected argument: %1").arg(parser.positionalArguments().first()));

    ProxyConfig config;

    const QString listen = parser.value(f.listen);
    if (!parseAddress(listen, &config.listenAddress, &config.listenPort))
        return fail(QStringLiteral("--listen: expected ADDR:PORT such as 0.0.0.0:8080, got '%1'").arg(listen));
    if (parser.isSet(f.metricsListen)) {
        const QString metrics = parser.value(f.metricsListen);
        quint16 metricsPort = 0;
        if (!parseAddress(metrics, &config.metricsAddress, &metricsPort))
            return fail(
                QStringLiteral("--metrics-listen: expected ADDR:PORT such as 127.0.0.1:9100, got '%1'").arg(metrics));
        config.metricsPort = metricsPort;
        config.metricsListener = true;
    }
    config.configFile = parser.value(f.config);

    config.domain = parser.value(f.domain).toLower();
    if (config.domain.isEmpty() || config.domain.startsWith(u'.') || config.domain.contains(u'/'))
        return fail(QStringLiteral("--domain: '%1' is not a domain name").arg(parser.value(f.domain)));

    if (parser.isSet(f.publicUrl)) {
        const QUrl url(parser.value(f.publicUrl), QUrl::StrictMode);
        if (!url.isValid() || (url.scheme() != u"http" && url.scheme() != u"https") || url.host().isEmpty()
            || (!url.path().isEmpty() && url.path() != u"/"))
            return fail(QStringLiteral("--public-url: expected http(s)://host[:port], got '%1'")
                            .arg(parser.value(f.publicUrl)));
        config.publicUrl = url;
        config.publicUrl.setPath(QString()); // "https://host/" and "https://host" are one audience
    }

    config.tlsCertFile = parser.value(f.tlsCert);
    config.tlsKeyFile = parser.value(f.tlsKey);
    if (config.tlsCertFile.isEmpty() != config.tlsKeyFile.isEmpty())
        return fail(QStringLiteral("--tls-cert and --tls-key go together"));
    config.authorizedKeysFile = parser.value(f.authorizedKeys);

    for (const QString &value : parser.values(f.trustedProxy)) {
        auto subnet = QHostAddress::parseSubnet(value.contains(u'/') ? value
                                                                     : value + (value.contains(u':') ? "/128" : "/32"));
        if (subnet.first.isNull())
            return fail(QStringLiteral("--trusted-proxy: '%1' is not an address or subnet").arg(value));
        config.trustedProxies.append(subnet);
    }

    const QString pathRouting = parser.value(f.pathRouting);
    if (pathRouting != u"on" && pathRouting != u"off")
        return fail(QStringLiteral("--path-routing: expected on or off, got '%1'").arg(pathRouting));
    config.pathRouting = pathRouting == u"on";

    struct NumberFlag {
        const QCommandLineOption &option;
        double min, max, scale;
        std::function<void(double)> store;
    };
    const NumberFlag numbers[] = {
        {f.requestTimeout, 1, 3600, 1000, [&](double v) { config.requestTimeoutMs = int(v); }},
        {f.bodyIdleTimeout, 1, 86400, 1000, [&](double v) { config.bodyIdleTimeoutMs = int(v); }},
        {f.maxRequestBody, 0, 1e15, 1, [&](double v) { config.maxRequestBodyBytes = qint64(v); }},
        {f.maxResponseBody, 0, 1e15, 1, [&](double v) { config.maxResponseBodyBytes = qint64(v); }},
        {f.maxWsMessage, 1, 1 << 30, 1, [&](double v) { config.maxWsMessageBytes = qint64(v); }},
        {f.maxHead, 1024, 1 << 20, 1, [&](double v) { config.maxHeadBytes = qsizetype(v); }},
        {f.headTimeout, 1, 600, 1000, [&](double v) { config.headTimeoutMs = int(v); }},
        {f.maxHeaders, 1, 10000, 1, [&](double v) { config.maxHeaders = int(v); }},
        {f.maxUrl, 64, 1 << 20, 1, [&](double v) { config.maxUrlBytes = qsizetype(v); }},
        {f.idleTimeout, 1, 3600, 1000, [&](double v) { config.idleTimeoutMs = int(v); }},
        {f.sendTimeout, 1, 3600, 1000, [&](double v) { config.sendTimeoutMs = int(v); }},
        {f.maxConnections, 1, 1'000'000, 1, [&](double v) { config.maxConnections = int(v); }},
        {f.maxPending, 1, 1'000'000, 1, [&](double v) { config.maxPendingPerTunnel = int(v); }},
        {f.maxWebSockets, 1, 1'000'000, 1, [&](double v) { config.maxWebSocketsPerTunnel = int(v); }},
        {f.rateLimit, 0.001, 1e9, 1, [&](double v) { config.rateLimitPerSec = v; }},
        {f.rateBurst, 1, 1e9, 1, [&](double v) { config.rateBurst = v; }},
        {f.wsRate, 0, 1e12, 1, [&](double v) { config.wsBytesPerSec = qint64(v); }},
        {f.pingInterval, 1, 3600, 1000, [&](double v) { config.pingIntervalMs = int(v); }},
        {f.tunnelTimeout, 2, 7200, 1000, [&](double v) { config.tunnelTimeoutMs = int(v); }},
        {f.registrationTimeout, 1, 600, 1000, [&](double v) { config.registrationTimeoutMs = int(v); }},
        {f.redisTtl, 1, 3600, 1000, [&](double v) { config.redisTtlMs = int(v); }},
    };
    for (const NumberFlag &flag : numbers) {
        double value = 0;
        if (!parseNumber(parser.value(flag.option), flag.min, flag.max, &value))
            return fail(QStringLiteral("--%1: expected a number from %2 to %3, got '%4'")
                            .arg(flag.option.names().first())
                            .arg(flag.min)
                            .arg(flag.max)
                            .arg(parser.value(flag.option)));
        flag.store(value * flag.scale);
    }
    if (parser.isSet(f.maxBody)) {
        // The protocol 1 flag: one limit for both ways. The specific flags win when given too.
        double value = 0;
        if (!parseNumber(parser.value(f.maxBody), 0, 1e15, &value))
            return fail(
                QStringLiteral("--max-body: expected a number from 0 to 1e+15, got '%1'").arg(parser.value(f.maxBody)));
        if (!parser.isSet(f.maxRequestBody))
            config.maxRequestBodyBytes = qint64(value);
        if (!parser.isSet(f.maxResponseBody))
            config.maxResponseBodyBytes = qint64(value);
    }
    if (config.tunnelTimeoutMs <= config.pingIntervalMs)
        return fail(QStringLiteral("--tunnel-timeout must be longer than --ping-interval"));

    const QString format = parser.value(f.logFormat);
    if (format != u"text" && format != u"json")
        return fail(QStringLiteral("--log-format: expected text or json, got '%1'").arg(format));
    config.jsonLogs = format == u"json";
    if (!util::parseLogLevel(parser.value(f.logLevel), &config.logLevel))
        return fail(
            QStringLiteral("--log-level: expected debug, info or warning, got '%1'").arg(parser.value(f.logLevel)));

    if (parser.isSet(f.redis)) {
        QString error;
        if (!RedisUrl::parse(parser.value(f.redis), &error))
            return fail(QStringLiteral("--redis: %1").arg(error));
        config.redisUrl = parser.value(f.redis);
    }
    if (parser.isSet(f.instanceId)) {
        static const QRegularExpression valid(QStringLiteral("^[A-Za-z0-9_.]{1,32}$"));
        if (!valid.match(parser.value(f.instanceId)).hasMatch())
            return fail(QStringLiteral("--instance-id: expected 1 to 32 of A-Z a-z 0-9 _ . , got '%1'")
                            .arg(parser.value(f.instanceId)));
        config.instanceId = parser.value(f.instanceId).toLatin1();
    }

    result.config = config;
    return result;
}

} // namespace

ParsedCommandLine parseProxyCommandLine(const QStringList &arguments)
{
    const util::ConfigFile::Layered layered = util::ConfigFile::layer(
        arguments, Flags().all(), {}, QStringLiteral("config"), {QStringLiteral("event-loop")});
    if (!layered.ok()) {
        ParsedCommandLine result;
        result.error = layered.error;
        result.exitCode = 2;
        return result;
    }
    ParsedCommandLine result = parseArguments(layered.arguments);
    if (!result.error.isEmpty()) {
        result.error = util::ConfigFile::attribute(
            layered, result.error, [](const QStringList &reparsed) { return parseArguments(reparsed).error; });
    }
    return result;
}

} // namespace keyhole::proxy
