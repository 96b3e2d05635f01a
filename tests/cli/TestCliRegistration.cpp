// keyhole-cli against a scripted stand-in for the proxy: which registration refusals end the program
// (exit 3) and which are retried, and how the --state-file is written.
#include "FakeProxy.h"
#include "ManagedProcess.h"
#include "TestEnvironment.h"
#include "TunnelFixture.h"
#include "crypto/KeyPair.h"
#include "crypto/RegistrationToken.h"
#include "crypto/RegistrationVerifier.h"
#include "protocol/Codec.h"

#include <QDateTime>
#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QJsonDocument>
#include <QJsonObject>
#include <QTemporaryDir>
#include <QTest>
#include <QWebSocket>

#include <functional>
#include <optional>
#include <memory>

using namespace keyhole;
using keyhole::testing::ManagedProcess;

namespace {

protocol::RegistrationResponse accepted()
{
    protocol::RegistrationResponse response;
    response.accepted = true;
    response.label = QStringLiteral("label");
    response.hostname = QStringLiteral("label.tunnel.test");
    response.publicUrl = QStringLiteral("http://label.tunnel.test");
    response.maxRequestBodyBytes = 1000;
    response.maxResponseBodyBytes = 1000;
    response.requestTimeoutMs = 30000;
    return response;
}

protocol::RegistrationResponse refusal(const QByteArray &code, bool retry)
{
    protocol::RegistrationResponse response;
    response.reason = QStringLiteral("refused: %1").arg(QString::fromLatin1(code));
    response.code = code;
    response.retry = retry;
    return response;
}

} // namespace

class TestCliRegistration : public QObject
{
    Q_OBJECT

private:
    std::unique_ptr<ManagedProcess> launch(const FakeProxy &proxy, const QStringList &extra = {})
    {
        auto cli = std::make_unique<ManagedProcess>(QStringLiteral("keyhole-cli"));
        const QStringList args = QStringList{QStringLiteral("--proxy"), proxy.url().toString(),
                                             QStringLiteral("--port"),  QString::number(testing::freeTcpPort()),
                                             QStringLiteral("--key"),   m_dir->filePath(QStringLiteral("key.pem"))}
            + extra;
        if (!cli->start(testing::cliProgram(), args))
            return nullptr;
        return cli;
    }

    std::unique_ptr<QTemporaryDir> m_dir;

private Q_SLOTS:
    void init()
    {
        m_dir = std::make_unique<QTemporaryDir>();
        QVERIFY(m_dir->isValid());
    }

    void finalRefusalExits3_data()
    {
        QTest::addColumn<QByteArray>("code");
        QTest::newRow("unauthorized") << QByteArray(protocol::Goodbye::CodeUnauthorized);
        QTest::newRow("bad-token") << QByteArray(protocol::Goodbye::CodeBadToken);
    }

    void finalRefusalExits3()
    {
        QFETCH(QByteArray, code);
        FakeProxy proxy([code](int) { return refusal(code, false); });
        auto cli = launch(proxy);
        QVERIFY(cli);
        QVERIFY2(cli->waitForExit(20000), qPrintable(cli->errorString()));
        QCOMPARE(cli->exitStatus(), QProcess::NormalExit);
        QCOMPARE(cli->exitCode(), 3);
        QVERIFY2(cli->stderrData().contains("refused: " + code), cli->stderrData().constData());
        QCOMPARE(proxy.registrations, 1);
    }

    void otherProtocolVersionExits3()
    {
        // A protocol 1 proxy answers in its own version; keyhole-cli says which versions meet, and stops.
        FakeProxy proxy([](int) { return accepted(); });
        const protocol::Goodbye goodbye{protocol::Goodbye::CodeVersion,
                                        QStringLiteral("unsupported protocol version 2 (expected 1)")};
        proxy.rawRegistrationReply = protocol::Codec::encode(goodbye, 1);
        auto cli = launch(proxy);
        QVERIFY(cli);
        QVERIFY2(cli->waitForExit(20000), qPrintable(cli->errorString()));
        QCOMPARE(cli->exitStatus(), QProcess::NormalExit);
        QVERIFY(cli->exitCode() != 0);
        const QByteArray err = cli->stderrData();
        QVERIFY2(err.contains("protocol 1") && err.contains("speaks 2"), err.constData());
        QCOMPARE(proxy.registrations, 1);
    }

    void busyRefusalIsRetried()
    {
        // Twice busy, then room: the program keeps going and comes online, no exit 3.
        FakeProxy proxy(
            [](int attempt) { return attempt < 2 ? refusal(protocol::Goodbye::CodeBusy, true) : accepted(); });
        auto cli = launch(proxy);
        QVERIFY(cli);
        const QRegularExpressionMatch online = cli->waitForLine(
            QRegularExpression(QStringLiteral("^Tunnel online: (\\S+)")), 30000);
        QVERIFY2(online.hasMatch(), qPrintable(cli->errorString()));
        QCOMPARE(online.captured(1), QStringLiteral("http://label.tunnel.test"));
        QCOMPARE(proxy.registrations, 3);
        QVERIFY(cli->isRunning());
    }

    void realProxySaysWhenToRetry()
    {
        // keyhole-proxy itself: one key registering past its share of the replay cache is refused as
        // busy and told that retrying helps; keyhole-cli with that key then keeps trying (no exit 3).
        testing::TunnelFixture fx;
        QVERIFY2(fx.startProxy(), qPrintable(fx.errorString()));
        const QString audience = QStringLiteral("http://localhost:%1").arg(fx.proxyPort());
        const QUrl subscribe(QStringLiteral("ws://127.0.0.1:%1/proxy/subscribe").arg(fx.proxyPort()));
        auto key = crypto::KeyPair::generate();
        QVERIFY(key);

        const auto registerOnce = [&](protocol::RegistrationResponse *out) {
            QWebSocket socket;
            std::optional<protocol::RegistrationResponse> response;
            connect(&socket, &QWebSocket::binaryMessageReceived, this, [&response](const QByteArray &frame) {
                const protocol::DecodeResult result = protocol::Codec::decode(frame);
                if (result && std::holds_alternative<protocol::RegistrationResponse>(*result.message) && !response)
                    response = std::get<protocol::RegistrationResponse>(*result.message);
            });
            connect(&socket, &QWebSocket::connected, this, [&] {
                const QByteArray token = crypto::RegistrationToken::create(*key, audience, {},
                                                                           QDateTime::currentSecsSinceEpoch());
                socket.sendBinaryMessage(protocol::Codec::encode(protocol::RegistrationRequest{token}));
            });
            socket.open(subscribe);
            QTRY_VERIFY_WITH_TIMEOUT(response.has_value(), 10000);
            *out = *response;
            socket.abort();
        };
        const int share = crypto::RegistrationVerifier::kMaxRememberedPerKey;
        for (int i = 0; i < share; ++i) {
            protocol::RegistrationResponse response;
            registerOnce(&response);
            QVERIFY2(response.accepted, qPrintable(QStringLiteral("%1: %2").arg(i).arg(response.reason)));
        }
        protocol::RegistrationResponse busy;
        registerOnce(&busy);
        QVERIFY(!busy.accepted);
        QCOMPARE(busy.code, QByteArray(protocol::Goodbye::CodeBusy));
        QVERIFY(busy.retry);

        const QString keyFile = m_dir->filePath(QStringLiteral("key.pem"));
        QVERIFY(testing::writeFile(keyFile, key->privatePem()));
        auto cli = std::make_unique<ManagedProcess>(QStringLiteral("keyhole-cli"));
        QVERIFY(cli->start(testing::cliProgram(),
                           {QStringLiteral("--proxy"), audience, QStringLiteral("--port"),
                            QString::number(testing::freeTcpPort()), QStringLiteral("--key"), keyFile}));
        // Refused twice (so it came back after the first), and still running.
        QTRY_VERIFY_WITH_TIMEOUT(cli->stderrData().count("refused for now") >= 2, 20000);
        QVERIFY2(cli->isRunning(), cli->stderrData().constData());
    }

    void stateFileReplacesAPlantedSymlink()
    {
        // Someone who can write the state file's folder plants a symlink to a file of ours: the state
        // file replaces the link itself, and the file it pointed to stays as it was.
        const QString victim = m_dir->filePath(QStringLiteral("victim.txt"));
        const QByteArray victimBytes = "do not overwrite\n";
        QVERIFY(testing::writeFile(victim, victimBytes));
        const QString stateFile = m_dir->filePath(QStringLiteral("state.json"));
        QVERIFY(QFile::link(victim, stateFile));

        FakeProxy proxy([](int) { return accepted(); });
        auto cli = launch(proxy, {QStringLiteral("--state-file"), stateFile});
        QVERIFY(cli);
        QVERIFY2(cli->waitForLine(QRegularExpression(QStringLiteral("^Tunnel online: "))).hasMatch(),
                 qPrintable(cli->errorString()));
        QTRY_VERIFY(!QFileInfo(stateFile).isSymLink());
        QFile state(stateFile);
        QVERIFY(state.open(QIODevice::ReadOnly));
        const QJsonObject json = QJsonDocument::fromJson(state.readAll()).object();
        QCOMPARE(json.value(QStringLiteral("url")).toString(), QStringLiteral("http://label.tunnel.test"));
        QFile original(victim);
        QVERIFY(original.open(QIODevice::ReadOnly));
        QCOMPARE(original.readAll(), victimBytes);
        // Nothing else is left in the folder: no temporary file of the write.
        QCOMPARE(QDir(m_dir->path()).entryList(QDir::Files | QDir::System | QDir::Hidden).size(), 3);
    }
};

QTEST_GUILESS_MAIN(TestCliRegistration)
#include "TestCliRegistration.moc"
