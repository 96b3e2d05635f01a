#include "ScaleOutCluster.h"

#include "TestEnvironment.h"

#include <QFile>
#include <QRegularExpression>
#include <QStandardPaths>
#include <QTcpSocket>
#include <QTest>
#include <QUrl>

#include <csignal>

namespace keyhole::testing {

namespace {
const QRegularExpression ServiceListening(QStringLiteral("^listening on (\\d+)$"));
const QRegularExpression ProxyListening(QStringLiteral("^keyhole-proxy listening on \\S*:(\\d+) "));
const QRegularExpression TunnelOnline(QStringLiteral("^Tunnel online: (\\S+)"));
constexpr int StartTimeoutMs = 15000;

QString haproxyProgram()
{
    return QStandardPaths::findExecutable(QStringLiteral("haproxy"),
                                          {QStringLiteral("/usr/sbin"), QStringLiteral("/usr/bin")});
}
} // namespace

ScaleOutCluster::ScaleOutCluster() = default;

ScaleOutCluster::~ScaleOutCluster()
{
    for (int i = 0; i < kInstances; ++i)
        thawProxy(i);
    m_client.reset();
    m_wsClient.reset();
    m_haproxy.reset();
    for (auto &proxy : m_proxies)
        proxy.reset();
}

QString ScaleOutCluster::missingPrograms()
{
    QStringList missing;
    if (RedisServer::serverProgram().isEmpty() || RedisServer::cliProgram().isEmpty())
        missing << QStringLiteral("redis-server");
    if (haproxyProgram().isEmpty())
        missing << QStringLiteral("haproxy");
    if (QStandardPaths::findExecutable(QStringLiteral("curl")).isEmpty())
        missing << QStringLiteral("curl");
    QString wsError;
    if (wsPythonProgram(&wsError).isEmpty())
        missing << QStringLiteral("python3-websockets");
    return missing.join(QStringLiteral(", "));
}

bool ScaleOutCluster::fail(const QString &message)
{
    m_error = message;
    return false;
}

QProcessEnvironment ScaleOutCluster::environment() const
{
    QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
    env.insert(QStringLiteral("HOME"), m_dir.path());
    env.insert(QStringLiteral("XDG_CONFIG_HOME"), m_dir.filePath(QStringLiteral("config")));
    env.insert(QStringLiteral("PYTHONUNBUFFERED"), QStringLiteral("1"));
    return env;
}

bool ScaleOutCluster::start()
{
    if (!m_dir.isValid())
        return fail(QStringLiteral("no temporary directory"));
    m_wsPython = wsPythonProgram();
    // A low pub/sub limit in Redis: the slow-instance case must overflow it in seconds, not minutes.
    if (!m_redis.start({QStringLiteral("--client-output-buffer-limit"), QStringLiteral("pubsub 2mb 1mb 1")}))
        return fail(m_redis.errorString());
    // haproxy's port is picked before haproxy binds it (the proxies need it for their public URL),
    // and a test running alongside may take it in between: then start over on another port.
    for (int attempt = 1;; ++attempt) {
        m_haPort = freeTcpPort();
        m_proxyPorts = {}; // any free port
        for (int i = 0; i < kInstances; ++i) {
            if (!startProxy(i))
                return false;
        }
        if (startHaproxy() && haproxyListening())
            break;
        if (attempt == 3)
            return fail(QStringLiteral("haproxy did not come up: ")
                        + QString::fromUtf8(m_haproxy->stderrData().right(1000)));
        m_haproxy->kill();
        for (auto &proxy : m_proxies)
            proxy->kill();
    }
    if (!waitAllHealthy(20000))
        return false;

    m_service = std::make_unique<ManagedProcess>(QStringLiteral("test-service"));
    if (!m_service->start(pythonProgram(), {testServiceScript()}, environment()))
        return fail(m_service->errorString());
    auto m = m_service->waitForLine(ServiceListening, StartTimeoutMs);
    if (!m.hasMatch())
        return fail(QStringLiteral("test service: ") + m_service->errorString());
    m_servicePort = quint16(m.captured(1).toUInt());

    m_wsService = std::make_unique<ManagedProcess>(QStringLiteral("ws-service"));
    if (!m_wsService->start(m_wsPython, {wsServiceScript()}, environment()))
        return fail(m_wsService->errorString());
    m = m_wsService->waitForLine(ServiceListening, StartTimeoutMs);
    if (!m.hasMatch())
        return fail(QStringLiteral("ws service: ") + m_wsService->errorString());
    m_wsServicePort = quint16(m.captured(1).toUInt());

    return startClient(&m_client, QStringLiteral("client"), m_servicePort, &m_label, {})
        && startClient(&m_wsClient, QStringLiteral("ws-client"), m_wsServicePort, &m_wsLabel,
                       {QStringLiteral("--name"), QStringLiteral("ws")});
}

bool ScaleOutCluster::startProxy(int index)
{
    auto proxy = std::make_unique<ManagedProcess>(QStringLiteral("proxy-p%1").arg(index + 1));
    const QStringList args{QStringLiteral("--listen"), QStringLiteral("127.0.0.1:%1").arg(m_proxyPorts[size_t(index)]),
                           QStringLiteral("--public-url"), QStringLiteral("http://localhost:%1").arg(m_haPort),
                           QStringLiteral("--redis"), m_redis.url(), QStringLiteral("--instance-id"),
                           QString::fromLatin1(instanceId(index)), QStringLiteral("--redis-ttl"),
                           QString::number(kTtlSecs), QStringLiteral("--request-timeout"),
                           QString::number(kRequestTimeoutSecs),
                           // The limiter is tested elsewhere; here it would only turn load into 429s.
                           QStringLiteral("--rate-limit"), QStringLiteral("1000000"), QStringLiteral("--rate-burst"),
                           QStringLiteral("1000000"), QStringLiteral("--max-pending"), QStringLiteral("100000"),
                           // The request body limit that testHttpAcrossInstances holds to its edge; answers keep the
                           // default (no limit), so large streams cross instances too.
                           QStringLiteral("--max-request-body"), QString::number(kMaxRequestBody)};
    if (!proxy->start(proxyProgram(), args, environment()))
        return fail(proxy->errorString());
    const auto m = proxy->waitForLine(ProxyListening, StartTimeoutMs);
    if (!m.hasMatch())
        return fail(QStringLiteral("proxy %1: %2 %3")
                        .arg(index)
                        .arg(proxy->errorString(), QString::fromUtf8(proxy->stderrData().right(2000))));
    m_proxyPorts[size_t(index)] = quint16(m.captured(1).toUInt());
    m_proxies[size_t(index)] = std::move(proxy);
    return true;
}

void ScaleOutCluster::killProxy(int index)
{
    if (auto *p = proxy(index))
        p->kill();
}

void ScaleOutCluster::freezeProxy(int index)
{
    if (auto *p = proxy(index); p && p->isRunning())
        ::kill(pid_t(p->pid()), SIGSTOP);
}

void ScaleOutCluster::thawProxy(int index)
{
    if (auto *p = proxy(index); p && p->isRunning())
        ::kill(pid_t(p->pid()), SIGCONT);
}

qint64 ScaleOutCluster::proxyRssKb(int index) const
{
    QFile status(QStringLiteral("/proc/%1/status").arg(proxy(index)->pid()));
    if (!status.open(QIODevice::ReadOnly))
        return -1;
    for (const QByteArray &line : status.readAll().split('\n')) {
        if (line.startsWith("VmRSS:"))
            return line.mid(6).trimmed().split(' ').first().toLongLong();
    }
    return -1;
}

bool ScaleOutCluster::startHaproxy()
{
    // Round robin per request; /healthz decides who is in. Each instance is listed again as a backup
    // without checks, so that when Redis is down and every instance reports unhealthy, visitors still
    // reach the instances (each serves the tunnels it holds) instead of haproxy's own 503.
    QByteArray config = "global\n"
                        "  maxconn 4096\n"
                        "defaults\n"
                        "  mode http\n"
                        "  timeout connect 2s\n"
                        "  timeout client 60s\n"
                        "  timeout server 60s\n"
                        "  timeout tunnel 1h\n"
                        "  option redispatch\n"
                        "  retries 3\n"
                        "frontend visitors\n"
                        "  bind 127.0.0.1:"
        + QByteArray::number(m_haPort)
        + "\n"
          "  default_backend proxies\n"
          "backend proxies\n"
          "  balance roundrobin\n"
          "  option allbackups\n"
          "  option httpchk\n"
          "  http-check send meth GET uri /healthz ver HTTP/1.1 hdr Host localhost\n"
          "  http-check expect status 200\n"
          "  timeout check 2s\n"
          "  default-server inter 400ms fall 2 rise 2\n"
          "  http-response set-header X-Balancer-Server %[srv_name]\n";
    for (int i = 0; i < kInstances; ++i)
        config += "  server p" + QByteArray::number(i + 1) + " 127.0.0.1:" + QByteArray::number(m_proxyPorts[size_t(i)])
            + " check\n";
    for (int i = 0; i < kInstances; ++i)
        config += "  server b" + QByteArray::number(i + 1) + " 127.0.0.1:" + QByteArray::number(m_proxyPorts[size_t(i)])
            + " backup\n";
    const QString path = m_dir.filePath(QStringLiteral("haproxy.cfg"));
    if (!writeFile(path, config))
        return fail(QStringLiteral("cannot write ") + path);
    m_haproxy = std::make_unique<ManagedProcess>(QStringLiteral("haproxy"));
    if (!m_haproxy->start(haproxyProgram(), {QStringLiteral("-db"), QStringLiteral("-f"), path}, environment()))
        return fail(m_haproxy->errorString());
    return true;
}

bool ScaleOutCluster::haproxyListening()
{
    bool connected = false;
    const bool settled = QTest::qWaitFor(
        [&] {
            if (!m_haproxy->isRunning())
                return true; // it could not bind
            QTcpSocket probe;
            probe.connectToHost(QHostAddress::LocalHost, m_haPort);
            connected = probe.waitForConnected(200);
            return connected;
        },
        5000);
    return settled && connected && m_haproxy->isRunning();
}

bool ScaleOutCluster::waitAllHealthy(int timeoutMs)
{
    // Round robin: kInstances consecutive 200s from /healthz through haproxy, each from a checked server
    // (p1..), cover every instance as haproxy sees it. A backup (b1..) answering means haproxy still
    // counts some instance down, and until it rises again every new connection lands on the others.
    QSet<QByteArray> seen;
    const bool ok = QTest::qWaitFor(
        [&] {
            const CurlResult r = runCurl({QStringLiteral("-m"), QStringLiteral("3"),
                                          QStringLiteral("http://localhost:%1/healthz").arg(m_haPort)},
                                         5000);
            const QByteArray server = r.header("X-Balancer-Server");
            if (r.status == 200 && server.startsWith('p'))
                seen.insert(server);
            else
                seen.clear();
            return seen.size() == kInstances;
        },
        timeoutMs);
    return ok || fail(QStringLiteral("not every instance became healthy behind haproxy"));
}

bool ScaleOutCluster::startClient(std::unique_ptr<ManagedProcess> *client, const QString &name, quint16 port,
                                  QString *label, const QStringList &extra)
{
    *client = std::make_unique<ManagedProcess>(name);
    const QStringList args = QStringList{QStringLiteral("--proxy"), QStringLiteral("http://localhost:%1").arg(m_haPort),
                                         QStringLiteral("--port"),  QString::number(port),
                                         QStringLiteral("--key"),   m_dir.filePath(QStringLiteral("key.pem"))}
        + extra;
    if (!(*client)->start(cliProgram(), args, environment()))
        return fail((*client)->errorString());
    const auto m = (*client)->waitForLine(TunnelOnline, 20000);
    if (!m.hasMatch())
        return fail(name + QStringLiteral(": ") + (*client)->errorString()
                    + QString::fromUtf8((*client)->stderrData().right(2000)));
    *label = QUrl(m.captured(1)).host().section(u'.', 0, 0);
    return !label->isEmpty() || fail(QStringLiteral("no label in ") + m.captured(1));
}

int ScaleOutCluster::ownerOf(const QString &label) const
{
    const QList<QByteArray> parts =
        m_redis.cli({QStringLiteral("GET"), QStringLiteral("keyhole:owner:") + label}).split(' ');
    return parts.size() == 3 ? indexOf(parts.at(1)) : -1;
}

int ScaleOutCluster::indexOf(const QByteArray &id) const
{
    for (int i = 0; i < kInstances; ++i) {
        if (instanceId(i) == id)
            return i;
    }
    return -1;
}

QStringList ScaleOutCluster::resolveArgs(const QString &label, quint16 port) const
{
    return {QStringLiteral("--resolve"), QStringLiteral("%1.localhost:%2:127.0.0.1").arg(label).arg(port)};
}

QString ScaleOutCluster::url(const QString &label, quint16 port, const QString &pathAndQuery) const
{
    return QStringLiteral("http://%1.localhost:%2%3").arg(label).arg(port).arg(pathAndQuery);
}

CurlResult ScaleOutCluster::visit(const QString &pathAndQuery, const QStringList &curlArgs, quint16 port,
                                  int timeoutMs) const
{
    const quint16 via = port ? port : m_haPort;
    return runCurl(resolveArgs(m_label, via) + curlArgs + QStringList{url(m_label, via, pathAndQuery)}, timeoutMs);
}

void ScaleOutCluster::dumpOutput() const
{
    for (const auto &proxy : m_proxies) {
        if (proxy)
            proxy->dumpOutput();
    }
    for (const auto *process : {m_haproxy.get(), m_client.get(), m_wsClient.get()}) {
        if (process)
            process->dumpOutput();
    }
}

} // namespace keyhole::testing
