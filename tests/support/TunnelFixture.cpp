#include "TunnelFixture.h"

#include "TestEnvironment.h"

#include <QRegularExpression>
#include <QUrl>

namespace keyhole::testing {

namespace {
const QRegularExpression ServiceListening(QStringLiteral("^listening on (\\d+)$"));
const QRegularExpression ProxyListening(
    QStringLiteral("^keyhole-proxy listening on \\S*:(\\d+) \\(public URL (\\S+)\\)"));
const QRegularExpression TunnelOnline(QStringLiteral("^Tunnel online: (\\S+)"));
constexpr int StartTimeoutMs = 15000;
} // namespace

TunnelFixture::TunnelFixture() = default;

TunnelFixture::~TunnelFixture()
{
    // Client first, so it does not log a reconnect storm while the proxy goes away.
    m_client.reset();
    m_proxy.reset();
    m_service.reset();
}

bool TunnelFixture::fail(const QString &message)
{
    m_error = message;
    return false;
}

QProcessEnvironment TunnelFixture::environment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    // Keep the programs away from the real user's config and key.
    env.insert(QStringLiteral("HOME"), m_dir.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("1"));
    return env;
}

bool TunnelFixture::start(const QStringList &proxyArgs, const QStringList &clientArgs)
{
    return startService() && startProxy(proxyArgs) && startClient(clientArgs);
}

bool TunnelFixture::startService()
{
    if (!m_dir.isValid())
        return fail(QStringLiteral("cannot create a temporary directory"));
    m_service = std::make_unique<ManagedProcess>(QStringLiteral("test-service"));
    if (!m_service->start(pythonProgram(), {testServiceScript()}, environment()))
        return fail(m_service->errorString());
    const QRegularExpressionMatch m = m_service->waitForLine(ServiceListening, StartTimeoutMs);
    if (!m.hasMatch())
        return fail(m_service->errorString());
    m_servicePort = quint16(m.captured(1).toUInt());
    return true;
}

bool TunnelFixture::startService(const QString &program, const QStringList &arguments)
{
    if (!m_dir.isValid())
        return fail(QStringLiteral("cannot create a temporary directory"));
    m_service = std::make_unique<ManagedProcess>(QStringLiteral("service"));
    if (!m_service->start(program, arguments, environment()))
        return fail(m_service->errorString());
    const QRegularExpressionMatch m = m_service->waitForLine(ServiceListening, StartTimeoutMs);
    if (!m.hasMatch())
        return fail(m_service->errorString() + QStringLiteral("; stderr: ")
                    + QString::fromUtf8(m_service->stderrData().right(2000)));
    m_servicePort = quint16(m.captured(1).toUInt());
    return true;
}

bool TunnelFixture::startProxy(const QStringList &extraArgs, quint16 port)
{
    if (proxyProgram().isEmpty())
        return fail(QStringLiteral("KEYHOLE_PROXY is not set (run the test through ctest)"));
    m_proxyArgs = extraArgs;
    m_proxy = std::make_unique<ManagedProcess>(QStringLiteral("proxy"));
    const QStringList args = QStringList{QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(port)}
        + extraArgs;
    if (!m_proxy->start(proxyProgram(), args, environment()))
        return fail(m_proxy->errorString());
    const QRegularExpressionMatch m = m_proxy->waitForLine(ProxyListening, StartTimeoutMs);
    if (!m.hasMatch())
        return fail(m_proxy->errorString() + QStringLiteral("; stderr: ")
                    + QString::fromUtf8(m_proxy->stderrData().right(2000)));
    m_proxyPort = quint16(m.captured(1).toUInt());
    if (port != 0 && m_proxyPort != port)
        return fail(QStringLiteral("proxy listens on %1 instead of %2").arg(m_proxyPort).arg(port));
    return true;
}

void TunnelFixture::killProxy()
{
    if (m_proxy)
        m_proxy->kill();
}

bool TunnelFixture::restartProxy()
{
    killProxy();
    return startProxy(m_proxyArgs, m_proxyPort);
}

std::unique_ptr<ManagedProcess> TunnelFixture::launchClient(const QString &name, const QStringList &extraArgs,
                                                            const QString &stateName, quint16 targetPort)
{
    auto client = std::make_unique<ManagedProcess>(name);
    QStringList args{QStringLiteral("--proxy"),      QStringLiteral("http://localhost:%1").arg(m_proxyPort),
                     QStringLiteral("--port"),       QString::number(targetPort ? targetPort : m_servicePort),
                     QStringLiteral("--state-file"), tempPath(stateName)};
    if (!extraArgs.contains(QStringLiteral("--key")))
        args += QStringList{QStringLiteral("--key"), keyFile()};
    args += extraArgs;
    if (cliProgram().isEmpty()) {
        m_error = QStringLiteral("KEYHOLE_CLI is not set (run the test through ctest)");
        return client;
    }
    if (!client->start(cliProgram(), args, environment()))
        m_error = client->errorString();
    return client;
}

QString TunnelFixture::waitForOnline(ManagedProcess *client, int timeoutMs)
{
    const QRegularExpressionMatch m = client->waitForLine(TunnelOnline, timeoutMs);
    if (!m.hasMatch()) {
        m_error = client->errorString() + QStringLiteral("; stderr: ")
            + QString::fromUtf8(client->stderrData().right(2000));
        return {};
    }
    return m.captured(1);
}

bool TunnelFixture::startClient(const QStringList &extraArgs, quint16 targetPort)
{
    m_client = launchClient(QStringLiteral("client"), extraArgs, QStringLiteral("state.json"), targetPort);
    if (!m_client->isRunning())
        return false;
    m_publicUrl = waitForOnline(m_client.get());
    if (m_publicUrl.isEmpty())
        return false;
    const QUrl url(m_publicUrl);
    m_label = url.host().section(QLatin1Char('.'), 0, 0);
    if (!url.isValid() || m_label.isEmpty())
        return fail(QStringLiteral("client printed an unusable public URL: ") + m_publicUrl);
    return true;
}

QString TunnelFixture::host() const
{
    const QUrl url(m_publicUrl);
    return QStringLiteral("%1:%2").arg(url.host()).arg(url.port(m_proxyPort));
}

QString TunnelFixture::visitorUrl(const QString &pathAndQuery) const
{
    return QStringLiteral("http://") + host() + pathAndQuery;
}

QString TunnelFixture::proxyUrl(const QString &pathAndQuery) const
{
    return QStringLiteral("http://localhost:%1").arg(m_proxyPort) + pathAndQuery;
}

QStringList TunnelFixture::resolveArgs() const
{
    QStringList args{QStringLiteral("--resolve"), QStringLiteral("localhost:%1:127.0.0.1").arg(m_proxyPort)};
    const QString tunnelHost = QUrl(m_publicUrl).host();
    if (!tunnelHost.isEmpty() && tunnelHost != QLatin1String("localhost"))
        args += QStringList{QStringLiteral("--resolve"),
                            QStringLiteral("%1:%2:127.0.0.1").arg(tunnelHost).arg(m_proxyPort)};
    return args;
}

CurlResult TunnelFixture::visit(const QString &pathAndQuery, const QStringList &curlArgs, int timeoutMs) const
{
    return runCurl(resolveArgs() + curlArgs + QStringList{visitorUrl(pathAndQuery)}, timeoutMs);
}

void TunnelFixture::dumpOutput() const
{
    for (const auto *process : {m_service.get(), m_proxy.get(), m_client.get()}) {
        if (process)
            process->dumpOutput();
    }
}

} // namespace keyhole::testing
