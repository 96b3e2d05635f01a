#include "CliCommandLine.h"

#include <QTemporaryDir>
#include <QTest>

using keyhole::cli::CliCommandLine;
using keyhole::util::LogFormat;

// keyhole-cli's flags, parsed in-process: every flag reaches the settings, the defaults hold, and every
// bad command line is refused with a sentence naming what is wrong.
class TestCliCommandLine : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void initTestCase();
    void testDefaults();
    void testFlag_data();
    void testFlag();
    void testError_data();
    void testError();
    void testHelpListsEveryFlag();
    void testVersion();

private:
    static CliCommandLine::Result parse(const QStringList &flags);
    QTemporaryDir m_dir;
    QString m_caFile;
};

CliCommandLine::Result TestCliCommandLine::parse(const QStringList &flags)
{
    return CliCommandLine::parse(QStringList{QStringLiteral("keyhole-cli")} + flags);
}

void TestCliCommandLine::initTestCase()
{
    QVERIFY(m_dir.isValid());
    m_caFile = m_dir.filePath(QStringLiteral("ca.pem"));
    QFile file(m_caFile);
    QVERIFY(file.open(QIODevice::WriteOnly));
    file.write("not checked here\n");
}

void TestCliCommandLine::testDefaults()
{
    const CliCommandLine::Result result = parse({QStringLiteral("--port"), QStringLiteral("3000")});
    QCOMPARE(result.action, CliCommandLine::Action::Run);
    QVERIFY(result.error.isEmpty());
    const auto &settings = result.settings;
    QCOMPARE(settings.client.proxyUrl, QUrl(QStringLiteral("http://localhost:8080")));
    QCOMPARE(settings.client.target, QUrl(QStringLiteral("http://127.0.0.1:3000")));
    QCOMPARE(settings.client.keyPath, keyhole::client::ClientSettings::defaultKeyPath());
    QVERIFY(settings.client.name.isEmpty());
    QVERIFY(settings.client.caFile.isEmpty());
    QVERIFY(settings.client.hostHeader.isEmpty()); // the visitor's Host
    QCOMPARE(settings.client.maxConcurrentLocal, keyhole::client::ClientSettings::kDefaultMaxConcurrentLocal);
    QVERIFY(settings.stateFile.isEmpty());
    QCOMPARE(settings.logFormat, LogFormat::Text);
}

void TestCliCommandLine::testFlag_data()
{
    QTest::addColumn<QStringList>("flags");
    QTest::addColumn<QString>("field");
    QTest::addColumn<QString>("expected");

    const QString port = QStringLiteral("--port=3000");
    QTest::newRow("--proxy") << QStringList{port, "--proxy", "https://tunnel.example.com"} << "proxy"
                             << "https://tunnel.example.com";
    QTest::newRow("--proxy ws") << QStringList{port, "--proxy=ws://localhost:9000"} << "proxy"
                                << "ws://localhost:9000";
    QTest::newRow("--port") << QStringList{"--port", "8081"} << "target"
                            << "http://127.0.0.1:8081";
    QTest::newRow("--port 1") << QStringList{"--port", "1"} << "target"
                              << "http://127.0.0.1:1";
    QTest::newRow("--port 65535") << QStringList{"--port", "65535"} << "target"
                                  << "http://127.0.0.1:65535";
    QTest::newRow("--target") << QStringList{"--target", "https://app.local:8443"} << "target"
                              << "https://app.local:8443";
    QTest::newRow("--target bare port") << QStringList{"--target", "5173"} << "target"
                                        << "http://127.0.0.1:5173";
    QTest::newRow("--target host:port") << QStringList{"--target", "app.local:3000"} << "target"
                                        << "http://app.local:3000";
    QTest::newRow("--target localhost:port") << QStringList{"--target", "localhost:8080"} << "target"
                                             << "http://localhost:8080";
    QTest::newRow("--key") << QStringList{port, "--key", "/tmp/other-key.pem"} << "key"
                           << "/tmp/other-key.pem";
    QTest::newRow("--name") << QStringList{port, "--name", "blog-2"} << "name"
                            << "blog-2";
    QTest::newRow("--state-file") << QStringList{port, "--state-file", "/tmp/state.json"} << "state-file"
                                  << "/tmp/state.json";
    QTest::newRow("--ca-file") << QStringList{port, "--ca-file", "CA"} << "ca-file"
                               << "CA";
    QTest::newRow("--host-header rewrite") << QStringList{port, "--host-header", "rewrite"} << "host-header"
                                           << "rewrite";
    QTest::newRow("--host-header literal") << QStringList{port, "--host-header", "app.test"} << "host-header"
                                           << "app.test";
    QTest::newRow("--log-format json") << QStringList{port, "--log-format", "json"} << "log-format"
                                       << "json";
    QTest::newRow("--log-format text") << QStringList{port, "--log-format", "text"} << "log-format"
                                       << "text";
}

void TestCliCommandLine::testFlag()
{
    QFETCH(QStringList, flags);
    QFETCH(QString, field);
    QFETCH(QString, expected);
    flags.replaceInStrings(QStringLiteral("CA"), m_caFile);
    expected.replace(QStringLiteral("CA"), m_caFile);

    const CliCommandLine::Result result = parse(flags);
    QVERIFY2(result.action == CliCommandLine::Action::Run, qPrintable(result.error));
    const auto &settings = result.settings;
    const QHash<QString, QString> actual{
        {QStringLiteral("proxy"), settings.client.proxyUrl.toString()},
        {QStringLiteral("target"), settings.client.target.toString()},
        {QStringLiteral("key"), settings.client.keyPath},
        {QStringLiteral("name"), settings.client.name},
        {QStringLiteral("state-file"), settings.stateFile},
        {QStringLiteral("ca-file"), settings.client.caFile},
        {QStringLiteral("host-header"), settings.client.hostHeader},
        {QStringLiteral("log-format"),
         settings.logFormat == LogFormat::Json ? QStringLiteral("json") : QStringLiteral("text")},
    };
    QVERIFY(actual.contains(field));
    QCOMPARE(actual.value(field), expected);
}

void TestCliCommandLine::testError_data()
{
    QTest::addColumn<QStringList>("flags");
    QTest::addColumn<QString>("error");
    QTest::addColumn<bool>("suggestHelp");

    const QString port = QStringLiteral("--port=3000");
    QTest::newRow("unknown flag") << QStringList{port, "--bogus"} << "Unknown option 'bogus'." << true;
    QTest::newRow("missing value") << QStringList{"--port"} << "Missing value after '--port'." << true;
    QTest::newRow("positional") << QStringList{port, "extra"} << "unexpected argument \"extra\"; try --help" << false;
    QTest::newRow("bad log format") << QStringList{port, "--log-format", "xml"} << "--log-format must be text or json"
                                    << false;
    QTest::newRow("port and target") << QStringList{port, "--target", "http://127.0.0.1:4000"}
                                     << "give either --port or --target, not both" << false;
    QTest::newRow("port not a number") << QStringList{"--port", "http"} << "--port must be a number between 1 and 65535"
                                       << false;
    QTest::newRow("port 0") << QStringList{"--port", "0"} << "--port must be a number between 1 and 65535" << false;
    QTest::newRow("port too big") << QStringList{"--port", "65536"} << "--port must be a number between 1 and 65535"
                                  << false;
    QTest::newRow("no local service") << QStringList{} << "no local service given (use --port or --target)" << false;
    QTest::newRow("target with path") << QStringList{"--target", "http://127.0.0.1:3000/app"}
                                      << "the target \"http://127.0.0.1:3000/app\" must not have a path; requests "
                                         "keep the visitor's path"
                                      << false;
    QTest::newRow("target port too big") << QStringList{"--target", "70000"}
                                         << "the target port 70000 is not between 1 and 65535" << false;
    QTest::newRow("target host with path") << QStringList{"--target", "localhost:3000/app"}
                                           << "the target \"http://localhost:3000/app\" must not have a path; "
                                              "requests keep the visitor's path"
                                           << false;
    QTest::newRow("target ftp") << QStringList{"--target", "ftp://127.0.0.1:21"}
                                << "the target \"ftp://127.0.0.1:21\" is not an http:// or https:// URL with a host"
                                << false;
    QTest::newRow("proxy ftp") << QStringList{port, "--proxy", "ftp://example.com"}
                               << "the proxy URL \"ftp://example.com\" is not an http:// or https:// URL with a host"
                               << false;
    QTest::newRow("empty key") << QStringList{port, "--key="} << "no key file given" << false;
    QTest::newRow("bad name") << QStringList{port, "--name", "-Blog"}
                              << "the tunnel name \"-Blog\" must be 1 to 63 characters of a-z, 0-9 and '-', not "
                                 "starting or ending with '-'"
                              << false;
    QTest::newRow("missing ca file") << QStringList{port, "--ca-file", "/nonexistent/ca.pem"}
                                     << "the CA file \"/nonexistent/ca.pem\" cannot be read" << false;
    QTest::newRow("host header injection") << QStringList{port, "--host-header", "a\r\nX-Evil: 1"}
                                           << "the Host header value \"a\r\nX-Evil: 1\" is not valid" << false;
}

void TestCliCommandLine::testError()
{
    QFETCH(QStringList, flags);
    QFETCH(QString, error);
    QFETCH(bool, suggestHelp);

    const CliCommandLine::Result result = parse(flags);
    QCOMPARE(result.action, CliCommandLine::Action::Fail);
    QCOMPARE(result.error, error);
    QCOMPARE(result.suggestHelp, suggestHelp);
}

void TestCliCommandLine::testHelpListsEveryFlag()
{
    for (const QString &flag : {QStringLiteral("--help"), QStringLiteral("-h")}) {
        const CliCommandLine::Result result = parse({flag});
        QCOMPARE(result.action, CliCommandLine::Action::ShowHelp);
        for (const char *option : {"--proxy", "--port", "--target", "--key", "--name", "--state-file", "--ca-file",
                                   "--host-header", "--log-format", "--version"})
            QVERIFY2(result.text.contains(QLatin1String(option)), option);
        QVERIFY(result.text.contains(QStringLiteral("Default: ")));
    }
}

void TestCliCommandLine::testVersion()
{
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-cli"));
    QCoreApplication::setApplicationVersion(QStringLiteral("1.2.3"));
    const CliCommandLine::Result result = parse({QStringLiteral("--version")});
    QCOMPARE(result.action, CliCommandLine::Action::ShowVersion);
    QCOMPARE(result.text, QStringLiteral("keyhole-cli 1.2.3\n"));
}

QTEST_GUILESS_MAIN(TestCliCommandLine)
#include "TestCliCommandLine.moc"
