#include "ProxyCommandLine.h"
#include "ProxyServer.h"
#include "util/AllocatorTuning.h"
#include "util/BatchedOutput.h"
#include "util/EventLoopChoice.h"
#include "util/Logging.h"
#include "util/TerminationWatcher.h"

#include <QCoreApplication>
#include <QTextStream>

#include <cstdio>

using namespace keyhole;

int main(int argc, char *argv[])
{
    keyhole::util::tuneAllocatorForLargeBuffers();
    keyhole::util::preferPlainEventLoop();
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
    util::BatchedOutput::standardError().enableBatching(); // the per-request access log

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
    QObject::connect(&server, &proxy::ProxyServer::stopped, &app, [] { QCoreApplication::exit(0); });

    QTextStream(stdout) << "keyhole-proxy listening on " << parsed.config->listenAddress.toString() << ':'
                        << server.port() << " (public URL " << server.publicUrl().toString() << ")\n";
    std::fflush(stdout);
    return app.exec();
}
