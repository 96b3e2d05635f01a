#pragma once

#include <QCommandLineOption>
#include <QList>
#include <QString>
#include <QStringList>

#include <functional>

namespace keyhole::util {

// A program's configuration file: one `name = value` per line, the names of its long flags without
// the dashes. A repeatable flag is repeated; a flag that takes no value is written `name = true` (or
// `false`, which leaves it out). Lines whose first non-blank character is '#' and blank lines are
// skipped; there are no comments after a value, since a value (a URL, a password) may hold a '#'.
//
// The file is turned into the same arguments the flags would be, so every value is checked by the
// flags' own parser: the file can say nothing the command line cannot.
class ConfigFile
{
public:
    // One line of the file as the arguments it stands for ("--name", "value").
    struct Line {
        int number = 0;
        QString name;
        QStringList arguments;
    };

    struct Parsed {
        QList<Line> lines;
        QString error; // "<file>:<line>: <what>"; empty when the file was read whole
        bool ok() const { return error.isEmpty(); }
    };

    // `fileName` names the file in errors; `options` are the flags the file may set.
    static Parsed parse(const QByteArray &text, const QString &fileName, const QList<QCommandLineOption> &options);
    static Parsed read(const QString &path, const QList<QCommandLineOption> &options);

    // The command line with the file it names (--<configOption> FILE) read in front of it.
    struct Layered {
        QStringList arguments; // program name, the file's arguments, then the command line's own
        QString fileName;      // empty: no file was named
        QList<Line> fileLines; // those kept: a flag the command line sets itself drops the file's lines for it
        QString error;         // the file could not be read or has a bad line
        bool ok() const { return error.isEmpty(); }
    };

    // `commandLine` as QCoreApplication::arguments(). A command line the flags' parser refuses is
    // returned as it is, for that parser to say why. `alternatives`: groups of flags that say the same
    // thing two ways (--port, --target): one of a group on the command line drops the file's lines
    // for every flag of the group.
    // `commandLineOnly`: flags the command line may give but a file may not (read before the file is),
    // so that a file line naming one is an error instead of being ignored.
    static Layered layer(const QStringList &commandLine, const QList<QCommandLineOption> &options,
                         const QList<QStringList> &alternatives = {},
                         const QString &configOption = QStringLiteral("config"),
                         const QStringList &commandLineOnly = {});

    // The flags' parser refused `layered.arguments` with `error`: names the file's line that causes
    // it (the first whose removal changes the error), or returns the error as it is when the
    // command line causes it. `errorOf` parses arguments and returns their error (empty when none).
    static QString attribute(const Layered &layered, const QString &error,
                             const std::function<QString(const QStringList &)> &errorOf);
};

} // namespace keyhole::util
