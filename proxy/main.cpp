#include "ProxyCommandLine.h"
#include "ProxyServer.h"
#include "net/DescriptorLimit.h"
#include "util/AllocatorTuning.h"
#include "util/BatchedOutput.h"
#include "util/EventLoopChoice.h"
#include "ProxyLogging.h"
#include "util/Logging.h"
#include "util/TerminationWatcher.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

using namespace keyhole;

int main(int argc, char *argv[])
{
    keyhole::util::tuneAllocatorForLargeBuffers();
    const util::EventLoopChoice eventLoop = util::chooseEventLoop(argc, argv);
    if (!eventLoop.error.isEmpty()) {
        QTextStream(stderr) << "keyhole-proxy: " << eventLoop.error << "\nTry 'keyhole-proxy --help'.\n";
        return 2;
    }
    const util::EventLoopKind eventLoopInUse = util::installEventLoop(eventLoop.kind);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-proxy"));
    QCoreApplication::setApplicationVersion(QStringLiteral(KEYHOLE_VERSION));

    const proxy::ParsedCommandLine parsed = proxy::parseProxyCommandLine(app.arguments());
    if (!parsed.config) {
        if (!parsed.error.isEmpty())
            QTextStream(stderr) << "keyhole-proxy: " << parsed.error << "\nTry 'keyhole-proxy --help'.\n";
        return parsed.exitCode;
    }
    util::installLogFormat(parsed.config->jsonLogs ? util::LogFormat::Json : util::LogFormat::Text);
    util::installLogLevel(parsed.config->logLevel);
    util::BatchedOutput::standardError().enableBatching(); // the per-request access log

    // Every socket is a descriptor: take what the hard limit allows, and say when it is not enough.
    const qint64 descriptors = proxy::DescriptorLimit::raiseToHardLimit();
    const qint64 needed = qint64(parsed.config->maxConnections) + proxy::DescriptorLimit::kReserve;
    if (descriptors >= 0 && descriptors < needed)
        qCWarning(lcProxy).nospace() << "the open file limit is " << descriptors << ", less than the " << needed
                                     << " that --max-connections " << parsed.config->maxConnections
                                     << " needs: raise it (LimitNOFILE=, ulimit -n) or lower --max-connections";
    else if (descriptors >= 0)
        qCInfo(lcProxy) << "open file limit:" << descriptors;
    qCInfo(lcProxy) << "event loop:" << (eventLoopInUse == util::EventLoopKind::Epoll ? "epoll" : "qt");

    proxy::ProxyServer server(*parsed.config);
    QString error;
    if (!server.start(&error)) {
        qCCritical(lcProxy).noquote() << error;
        return 1;
    }

    util::TerminationWatcher termination;
    QObject::connect(&termination, &util::TerminationWatcher::terminationRequested, &server,
                     [&server](const QString &signalName) {
                         static int requests = 0;
                         if (++requests > 1) {
                             qCWarning(lcProxy).noquote() << signalName << "again: exiting now";
                             QCoreApplication::exit(1);
                             return;
                         }
                         qCInfo(lcProxy).noquote() << signalName << "received";
                         server.shutdown();
                     });
    // SIGHUP: the same command line and --config file read again; a bad file changes nothing.
    termination.watchReload();
    const QStringList arguments = app.arguments();
    QObject::connect(&termination, &util::TerminationWatcher::reloadRequested, &server, [&server, arguments] {
        const proxy::ParsedCommandLine reparsed = proxy::parseProxyCommandLine(arguments);
        if (!reparsed.config) {
            qCWarning(lcProxy).noquote() << "reload refused, nothing changed:" << reparsed.error;
            return;
        }
        server.reload(*reparsed.config);
    });
    QObject::connect(&server, &proxy::ProxyServer::stopped, &app, [] { QCoreApplication::exit(0); });

    QTextStream(stdout) << "keyhole-proxy listening on " << parsed.config->listenAddress.toString() << ':'
                        << server.port() << " (public URL " << server.publicUrl().toString() << ")\n";
    if (server.metricsPort() != 0)
        QTextStream(stdout) << "keyhole-proxy metrics on " << parsed.config->metricsAddress.toString() << ':'
                            << server.metricsPort() << "/metrics\n";
    std::fflush(stdout);
    return app.exec();
}
