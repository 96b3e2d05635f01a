#pragma once

#include "ClientSettings.h"
#include "util/Logging.h"

#include <QHostAddress>
#include <QString>
#include <QStringList>

namespace keyhole::cli {

// keyhole-cli's flags → what a run needs, or the reason it cannot run. Pure: it prints nothing and
// exits nothing (main() does), so every flag, default and error is testable in-process. The
// settings it returns have passed ClientSettings::validate().
class CliCommandLine
{
public:
    // What the command line asks for.
    enum class Action {
        Run,         // `settings` holds the tunnel to run
        ShowHelp,    // print `text` on stdout, exit 0
        ShowVersion, // print `text` on stdout, exit 0
        Fail,        // print `error` on stderr, exit 2 (bad usage)
    };

    struct Settings {
        client::ClientSettings client;
        QString stateFile; // empty: none written
        util::LogFormat logFormat = util::LogFormat::Text;
        bool metricsListener = false; // --metrics-listen
        QHostAddress metricsAddress;
        quint16 metricsPort = 0;
    };

    struct Result {
        Action action = Action::Fail;
        Settings settings;        // Action::Run only
        QString text;             // help or version text
        QString error;            // one sentence naming the flag
        bool suggestHelp = false; // follow `error` with "try --help"
    };

    // `arguments` as QCoreApplication::arguments(): the program name first.
    static Result parse(const QStringList &arguments);
};

} // namespace keyhole::cli
