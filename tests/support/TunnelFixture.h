#pragma once

#include "CurlJob.h"
#include "ManagedProcess.h"

#include <QString>
#include <QStringList>
#include <QTemporaryDir>

#include <memory>

namespace keyhole::testing {

// A whole tunnel on 127.0.0.1: the local test service, keyhole-proxy on a free port and keyhole-cli
// forwarding to the service, each a ManagedProcess killed when the fixture goes away. Every start
// function returns false on failure with the reason in errorString(), so tests can QVERIFY2 them.
class TunnelFixture
{
public:
    TunnelFixture();
    ~TunnelFixture();
    Q_DISABLE_COPY(TunnelFixture)

    // Service, proxy (with extra flags) and client (with extra flags), waiting until the tunnel is online.
    bool start(const QStringList &proxyArgs = {}, const QStringList &clientArgs = {});

    bool startService();
    // Another local service instead of test_service.py (e.g. ws_service.py); it must print `listening on <port>`.
    bool startService(const QString &program, const QStringList &arguments);
    // Proxy on 127.0.0.1:`port` (0 = any free port); waits for its "listening on" line.
    bool startProxy(const QStringList &extraArgs = {}, quint16 port = 0);
    // SIGKILLs the proxy and starts it again on the same port with the same flags.
    bool restartProxy();
    void killProxy();
    // The client for `targetPort` (0 = the service's port), waiting for "Tunnel online:".
    bool startClient(const QStringList &extraArgs = {}, quint16 targetPort = 0);

    // A further client process with the fixture's key unless `extraArgs` names another; it is only
    // started (not awaited). `stateName` names its state file in the temporary directory.
    std::unique_ptr<ManagedProcess> launchClient(const QString &name, const QStringList &extraArgs,
                                                 const QString &stateName, quint16 targetPort = 0);
    // Waits for the next "Tunnel online: <url>" line of `client`; returns the URL or an empty string.
    QString waitForOnline(ManagedProcess *client, int timeoutMs = 20000);

    QString errorString() const { return m_error; }

    quint16 proxyPort() const { return m_proxyPort; }
    quint16 servicePort() const { return m_servicePort; }
    QString publicUrl() const { return m_publicUrl; } // as printed by the client
    QString label() const { return m_label; }
    QString host() const; // "<label>.localhost:<port>": what visitors send as Host
    QString visitorUrl(const QString &pathAndQuery) const;
    QString proxyUrl(const QString &pathAndQuery) const; // on the proxy's own host (no label)
    QStringList resolveArgs() const;                     // curl --resolve for the tunnel and proxy hosts

    // curl on visitorUrl(pathAndQuery) with resolveArgs() and `curlArgs`.
    CurlResult visit(const QString &pathAndQuery, const QStringList &curlArgs = {}, int timeoutMs = 30000) const;

    QString tempPath(const QString &name) const { return m_dir.filePath(name); }
    QString keyFile() const { return tempPath(QStringLiteral("key.pem")); }
    QString stateFile() const { return tempPath(QStringLiteral("state.json")); }

    ManagedProcess *service() const { return m_service.get(); }
    ManagedProcess *proxy() const { return m_proxy.get(); }
    ManagedProcess *client() const { return m_client.get(); }

    // Dumps every program's output (call from a test's cleanup() when it failed).
    void dumpOutput() const;

private:
    bool fail(const QString &message);
    QProcessEnvironment environment() const;

    QTemporaryDir m_dir;
    std::unique_ptr<ManagedProcess> m_service;
    std::unique_ptr<ManagedProcess> m_proxy;
    std::unique_ptr<ManagedProcess> m_client;
    QStringList m_proxyArgs;
    quint16 m_proxyPort = 0;
    quint16 m_servicePort = 0;
    QString m_publicUrl;
    QString m_label;
    QString m_error;
};

} // namespace keyhole::testing
