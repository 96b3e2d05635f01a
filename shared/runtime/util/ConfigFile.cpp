#include "util/ConfigFile.h"

#include <QCommandLineParser>
#include <QFile>
#include <QHash>

namespace keyhole::util {

namespace {
// Far beyond any real configuration, and small enough that a wrong path (a log, a device) is refused
// rather than read into memory.
constexpr qint64 kMaxFileBytes = 1024 * 1024;
} // namespace

ConfigFile::Parsed ConfigFile::parse(const QByteArray &text, const QString &fileName,
                                     const QList<QCommandLineOption> &options)
{
    QHash<QString, bool> takesValue; // every name of every option
    for (const QCommandLineOption &option : options) {
        for (const QString &name : option.names())
            takesValue.insert(name, !option.valueName().isEmpty());
    }

    Parsed parsed;
    auto fail = [&parsed, &fileName](int number, const QString &what) {
        parsed.error = QStringLiteral("%1:%2: %3").arg(fileName).arg(number).arg(what);
        parsed.lines.clear();
        return parsed;
    };

    const QList<QByteArray> rawLines = text.split('\n');
    for (qsizetype i = 0; i < rawLines.size(); ++i) {
        const int number = int(i + 1);
        QByteArray raw = rawLines.at(i);
        if (raw.endsWith('\r'))
            raw.chop(1);
        const QString line = QString::fromUtf8(raw).trimmed();
        if (line.isEmpty() || line.startsWith(u'#'))
            continue;
        const qsizetype equals = line.indexOf(u'=');
        if (equals < 0)
            return fail(number, QStringLiteral("expected name = value, got \"%1\"").arg(line));
        const QString name = line.left(equals).trimmed();
        const QString value = line.mid(equals + 1).trimmed();
        const auto known = takesValue.constFind(name);
        if (name.isEmpty() || known == takesValue.cend())
            return fail(number, QStringLiteral("unknown option \"%1\"").arg(name));

        Line entry;
        entry.number = number;
        entry.name = name;
        if (known.value()) {
            entry.arguments = {QStringLiteral("--") + name, value};
        } else if (value == u"true") {
            entry.arguments = {QStringLiteral("--") + name};
        } else if (value != u"false") {
            return fail(number, QStringLiteral("%1: expected true or false, got \"%2\"").arg(name, value));
        }
        parsed.lines.append(entry);
    }
    return parsed;
}

ConfigFile::Parsed ConfigFile::read(const QString &path, const QList<QCommandLineOption> &options)
{
    QFile file(path);
    Parsed parsed;
    if (!file.open(QIODevice::ReadOnly)) {
        parsed.error = QStringLiteral("%1: %2").arg(path, file.errorString());
        return parsed;
    }
    const QByteArray text = file.read(kMaxFileBytes + 1);
    if (text.size() > kMaxFileBytes) {
        parsed.error = QStringLiteral("%1: larger than %2 bytes; is it the right file?").arg(path).arg(kMaxFileBytes);
        return parsed;
    }
    return parse(text, path, options);
}

ConfigFile::Layered ConfigFile::layer(const QStringList &commandLine, const QList<QCommandLineOption> &options,
                                      const QList<QStringList> &alternatives, const QString &configOption,
                                      const QStringList &commandLineOnly)
{
    Layered layered;
    layered.arguments = commandLine;

    // The command line alone, to find the file and the flags it sets itself.
    QCommandLineParser parser;
    parser.addHelpOption();
    parser.addVersionOption();
    parser.addOptions(options);
    const QCommandLineOption config(configOption, QString(), QStringLiteral("FILE"));
    bool listed = false;
    for (const QCommandLineOption &option : options)
        listed = listed || option.names().contains(configOption);
    if (!listed)
        parser.addOption(config);
    if (!parser.parse(commandLine) || !parser.isSet(config))
        return layered;

    layered.fileName = parser.value(config);
    QList<QCommandLineOption> allowed; // a file names no further file
    for (const QCommandLineOption &option : options) {
        if (!option.names().contains(configOption))
            allowed.append(option);
    }
    const Parsed parsed = read(layered.fileName, allowed);
    if (!parsed.ok()) {
        layered.error = parsed.error;
        return layered;
    }
    for (const Line &line : parsed.lines) {
        if (commandLineOnly.contains(line.name)) {
            layered.error = QStringLiteral("%1:%2: --%3 can only be given on the command line")
                                .arg(layered.fileName)
                                .arg(line.number)
                                .arg(line.name);
            return layered;
        }
    }

    auto setOnCommandLine = [&parser, &alternatives](const QString &name) {
        if (parser.isSet(name))
            return true;
        for (const QStringList &group : alternatives) {
            if (group.contains(name)) {
                for (const QString &other : group) {
                    if (parser.isSet(other))
                        return true;
                }
            }
        }
        return false;
    };
    QStringList arguments{commandLine.value(0)};
    for (const Line &line : parsed.lines) {
        if (setOnCommandLine(line.name))
            continue; // the command line wins, for a repeatable flag too: its values replace the file's
        layered.fileLines.append(line);
        arguments += line.arguments;
    }
    arguments += commandLine.mid(1);
    layered.arguments = arguments;
    return layered;
}

QString ConfigFile::attribute(const Layered &layered, const QString &error,
                              const std::function<QString(const QStringList &)> &errorOf)
{
    if (layered.fileLines.isEmpty())
        return error;
    const QString program = layered.arguments.value(0);
    qsizetype fileArgumentCount = 0;
    for (const Line &line : layered.fileLines)
        fileArgumentCount += line.arguments.size();
    const QStringList commandLineArguments = layered.arguments.mid(1 + fileArgumentCount);

    for (qsizetype skip = 0; skip < layered.fileLines.size(); ++skip) {
        QStringList arguments{program};
        for (qsizetype i = 0; i < layered.fileLines.size(); ++i) {
            if (i != skip)
                arguments += layered.fileLines.at(i).arguments;
        }
        arguments += commandLineArguments;
        if (errorOf(arguments) != error) {
            return QStringLiteral("%1:%2: %3")
                .arg(layered.fileName, QString::number(layered.fileLines.at(skip).number), error);
        }
    }
    return error;
}

} // namespace keyhole::util
