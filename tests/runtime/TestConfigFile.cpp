#include "util/ConfigFile.h"

#include <QCommandLineParser>
#include <QTemporaryDir>
#include <QtTest>

using keyhole::util::ConfigFile;

namespace {
QList<QCommandLineOption> options()
{
    return {
        QCommandLineOption(QStringLiteral("listen"), QString(), QStringLiteral("ADDR:PORT")),
        QCommandLineOption(QStringLiteral("trusted-proxy"), QString(), QStringLiteral("ADDR")),
        QCommandLineOption(QStringLiteral("rate-limit"), QString(), QStringLiteral("N")),
        QCommandLineOption(QStringLiteral("verbose")), // takes no value
        QCommandLineOption(QStringLiteral("config"), QString(), QStringLiteral("FILE")),
        QCommandLineOption(QStringLiteral("port"), QString(), QStringLiteral("N")),
        QCommandLineOption(QStringLiteral("target"), QString(), QStringLiteral("URL")),
    };
}

QStringList argumentsOf(const ConfigFile::Parsed &parsed)
{
    QStringList arguments;
    for (const ConfigFile::Line &line : parsed.lines)
        arguments += line.arguments;
    return arguments;
}

// A stand-in for a program's own flag check: --rate-limit must be a number.
QString rateLimitError(const QStringList &arguments)
{
    QCommandLineParser parser;
    parser.addOptions(options());
    if (!parser.parse(arguments))
        return parser.errorText();
    bool ok = false;
    parser.value(QStringLiteral("rate-limit")).toDouble(&ok);
    if (parser.isSet(QStringLiteral("rate-limit")) && !ok)
        return QStringLiteral("--rate-limit: not a number");
    return {};
}
} // namespace

class TestConfigFile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parse_data();
    void parse();
    void lineNumbers();
    void missingFile();
    void layer_data();
    void layer();
    void attribute();
    void commandLineOnly();
};

void TestConfigFile::parse_data()
{
    QTest::addColumn<QByteArray>("text");
    QTest::addColumn<QStringList>("arguments"); // what the file stands for
    QTest::addColumn<QString>("error");         // empty: none

    QTest::newRow("empty") << QByteArray() << QStringList() << QString();
    QTest::newRow("comments and blanks") << QByteArray("# a comment\n\n   \n  # indented\n") << QStringList()
                                         << QString();
    QTest::newRow("one value") << QByteArray("listen = 0.0.0.0:80\n") << QStringList{"--listen", "0.0.0.0:80"}
                               << QString();
    QTest::newRow("no spaces, CRLF, no final newline")
        << QByteArray("listen=127.0.0.1:1\r\nrate-limit=5")
        << QStringList{"--listen", "127.0.0.1:1", "--rate-limit", "5"} << QString();
    QTest::newRow("repeated") << QByteArray("trusted-proxy = 10.0.0.0/8\ntrusted-proxy = ::1\n")
                              << QStringList{"--trusted-proxy", "10.0.0.0/8", "--trusted-proxy", "::1"} << QString();
    QTest::newRow("a # inside a value is the value's")
        << QByteArray("listen = a#b # c\n") << QStringList{"--listen", "a#b # c"} << QString();
    QTest::newRow("an = inside a value") << QByteArray("listen = a=b\n") << QStringList{"--listen", "a=b"} << QString();
    QTest::newRow("empty value") << QByteArray("listen =\n") << QStringList{"--listen", ""} << QString();
    QTest::newRow("boolean true") << QByteArray("verbose = true\n") << QStringList{"--verbose"} << QString();
    QTest::newRow("boolean false") << QByteArray("verbose = false\n") << QStringList() << QString();
    QTest::newRow("boolean other") << QByteArray("verbose = yes\n") << QStringList()
                                   << QStringLiteral("p.conf:1: verbose: expected true or false, got \"yes\"");
    QTest::newRow("unknown option") << QByteArray("# x\n\nfoo = 1\n") << QStringList()
                                    << QStringLiteral("p.conf:3: unknown option \"foo\"");
    QTest::newRow("dashes are not part of the name")
        << QByteArray("--listen = 1\n") << QStringList() << QStringLiteral("p.conf:1: unknown option \"--listen\"");
    QTest::newRow("names are case-sensitive")
        << QByteArray("Listen = 1\n") << QStringList() << QStringLiteral("p.conf:1: unknown option \"Listen\"");
    QTest::newRow("no equals sign") << QByteArray("listen 1\n") << QStringList()
                                    << QStringLiteral("p.conf:1: expected name = value, got \"listen 1\"");
    QTest::newRow("bare boolean") << QByteArray("verbose\n") << QStringList()
                                  << QStringLiteral("p.conf:1: expected name = value, got \"verbose\"");
    QTest::newRow("no name") << QByteArray("= 1\n") << QStringList() << QStringLiteral("p.conf:1: unknown option \"\"");
    QTest::newRow("error after good lines drops them")
        << QByteArray("listen = 1\nrate-limit = 2\nbogus = 3\n") << QStringList()
        << QStringLiteral("p.conf:3: unknown option \"bogus\"");
}

void TestConfigFile::parse()
{
    QFETCH(QByteArray, text);
    QFETCH(QStringList, arguments);
    QFETCH(QString, error);
    const ConfigFile::Parsed parsed = ConfigFile::parse(text, QStringLiteral("p.conf"), options());
    QCOMPARE(parsed.error, error);
    QCOMPARE(argumentsOf(parsed), arguments);
}

void TestConfigFile::lineNumbers()
{
    const ConfigFile::Parsed parsed = ConfigFile::parse("# head\n\nlisten = 1\n  # again\nrate-limit = 2\n",
                                                        QStringLiteral("p.conf"), options());
    QVERIFY(parsed.ok());
    QCOMPARE(parsed.lines.size(), qsizetype(2));
    QCOMPARE(parsed.lines.at(0).number, 3);
    QCOMPARE(parsed.lines.at(1).number, 5);
    QCOMPARE(parsed.lines.at(1).name, QStringLiteral("rate-limit"));
}

void TestConfigFile::missingFile()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("absent.conf"));
    const ConfigFile::Parsed parsed = ConfigFile::read(path, options());
    QVERIFY(!parsed.ok());
    QVERIFY2(parsed.error.startsWith(path + QStringLiteral(": ")), qPrintable(parsed.error));

    const ConfigFile::Layered layered = ConfigFile::layer({QStringLiteral("prog"), QStringLiteral("--config"), path},
                                                          options());
    QVERIFY(!layered.ok());
    QVERIFY2(layered.error.startsWith(path), qPrintable(layered.error));
}

void TestConfigFile::layer_data()
{
    QTest::addColumn<QByteArray>("file");
    QTest::addColumn<QStringList>("commandLine"); // after the program name; "FILE" is the file's path
    QTest::addColumn<QStringList>("arguments");   // after the program name
    QTest::addColumn<QString>("error");           // its start

    QTest::newRow("no file named") << QByteArray() << QStringList{"--listen", "x"} << QStringList{"--listen", "x"}
                                   << QString();
    QTest::newRow("file before the command line")
        << QByteArray("rate-limit = 5\n") << QStringList{"--config", "FILE", "--listen", "x"}
        << QStringList{"--rate-limit", "5", "--config", "FILE", "--listen", "x"} << QString();
    QTest::newRow("the command line's flag drops the file's")
        << QByteArray("rate-limit = 5\nlisten = y\n") << QStringList{"--listen=x", "--config=FILE"}
        << QStringList{"--rate-limit", "5", "--listen=x", "--config=FILE"} << QString();
    QTest::newRow("a repeated flag is replaced whole")
        << QByteArray("trusted-proxy = 1.1.1.1\ntrusted-proxy = 2.2.2.2\n")
        << QStringList{"--trusted-proxy", "3.3.3.3", "--config", "FILE"}
        << QStringList{"--trusted-proxy", "3.3.3.3", "--config", "FILE"} << QString();
    QTest::newRow("one of two alternatives drops the other's line")
        << QByteArray("target = http://127.0.0.1:1\nrate-limit = 5\n")
        << QStringList{"--config", "FILE", "--port", "80"}
        << QStringList{"--rate-limit", "5", "--config", "FILE", "--port", "80"} << QString();
    QTest::newRow("a file names no further file")
        << QByteArray("config = other.conf\n") << QStringList{"--config", "FILE"} << QStringList()
        << QStringLiteral("FILE:1: unknown option \"config\"");
    QTest::newRow("a refused command line is left to the flags' parser")
        << QByteArray("rate-limit = 5\n") << QStringList{"--config", "FILE", "--nonsense"}
        << QStringList{"--config", "FILE", "--nonsense"} << QString();
}

void TestConfigFile::layer()
{
    QFETCH(QByteArray, file);
    QFETCH(QStringList, commandLine);
    QFETCH(QStringList, arguments);
    QFETCH(QString, error);

    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("p.conf"));
    QFile out(path);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write(file);
    out.close();
    auto substitute = [&path](QStringList list) {
        for (QString &item : list)
            item.replace(QStringLiteral("FILE"), path);
        return list;
    };

    const ConfigFile::Layered layered = ConfigFile::layer(QStringList{QStringLiteral("prog")} + substitute(commandLine),
                                                          options(),
                                                          {{QStringLiteral("port"), QStringLiteral("target")}});
    QCOMPARE(layered.error, substitute({error}).first());
    if (error.isEmpty())
        QCOMPARE(layered.arguments, QStringList{QStringLiteral("prog")} + substitute(arguments));
}

void TestConfigFile::attribute()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("p.conf"));
    QFile out(path);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write("listen = a\n\n# limits\nrate-limit = lots\ntrusted-proxy = b\n");
    out.close();

    const ConfigFile::Layered layered = ConfigFile::layer({QStringLiteral("prog"), QStringLiteral("--config"), path},
                                                          options());
    QVERIFY(layered.ok());
    const QString error = rateLimitError(layered.arguments);
    QCOMPARE(error, QStringLiteral("--rate-limit: not a number"));
    QCOMPARE(ConfigFile::attribute(layered, error, &rateLimitError),
             path + QStringLiteral(":4: --rate-limit: not a number"));

    // The same fault on the command line is the command line's.
    const ConfigFile::Layered fromCommandLine = ConfigFile::layer(
        {QStringLiteral("prog"), QStringLiteral("--config"), path, QStringLiteral("--rate-limit=x")}, options());
    const QString commandLineError = rateLimitError(fromCommandLine.arguments);
    QCOMPARE(ConfigFile::attribute(fromCommandLine, commandLineError, &rateLimitError), commandLineError);
}

// A flag read before the file is (the event loop, chosen before the application exists) is refused
// in the file instead of being ignored there, and on the command line it does not hide the file.
void TestConfigFile::commandLineOnly()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("p.conf"));
    QFile out(path);
    QVERIFY(out.open(QIODevice::WriteOnly));
    out.write("listen = a\n");
    out.close();
    const QStringList onlyListen{QStringLiteral("listen")};

    const ConfigFile::Layered both = ConfigFile::layer(
        {QStringLiteral("prog"), QStringLiteral("--listen"), QStringLiteral("b"), QStringLiteral("--config"), path},
        options(), {}, QStringLiteral("config"), {QStringLiteral("rate-limit")});
    QVERIFY2(both.ok(), qPrintable(both.error));
    QCOMPARE(both.fileName, path);

    const ConfigFile::Layered refused = ConfigFile::layer({QStringLiteral("prog"), QStringLiteral("--config"), path},
                                                          options(), {}, QStringLiteral("config"), onlyListen);
    QCOMPARE(refused.error, path + QStringLiteral(":1: --listen can only be given on the command line"));
}

QTEST_APPLESS_MAIN(TestConfigFile)
#include "TestConfigFile.moc"
