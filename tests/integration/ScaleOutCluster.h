#pragma once

#include "CurlJob.h"
#include "ManagedProcess.h"
#include "RedisServer.h"

#include <QElapsedTimer>
#include <QTemporaryDir>

#include <array>
#include <memory>

namespace keyhole::testing {

// Scale-out on 127.0.0.1: redis-server, three keyhole-proxy instances sharing it (--redis), haproxy
// in front of them (round robin, health checks on /healthz, `timeout tunnel` for WebSockets), the
// HTTP test service and the WebSocket service, and two keyhole-cli clients that dial haproxy: one
// for each service (the second with --name ws). Everything is killed with the object.
class ScaleOutCluster
{
public:
    static constexpr int kInstances = 3;
    static constexpr int kTtlSecs = 3;
    static constexpr int kRequestTimeoutSecs = 8;
    static constexpr int kMaxRequestBody = 512000;

    ScaleOutCluster();
    ~ScaleOutCluster();
    Q_DISABLE_COPY(ScaleOutCluster)

    // Empty when everything this needs is installed; else what is missing.
    static QString missingPrograms();

    bool start();
    QString errorString() const { return m_error; }

    bool startProxy(int index); // again on its port after a kill
    void killProxy(int index);
    void freezeProxy(int index); // SIGSTOP
    void thawProxy(int index);
    ManagedProcess *proxy(int index) const { return m_proxies[size_t(index)].get(); }
    quint16 proxyPort(int index) const { return m_proxyPorts[size_t(index)]; }
    QByteArray instanceId(int index) const { return "p" + QByteArray::number(index + 1); }
    qint64 proxyRssKb(int index) const;

    // The instance holding `label` according to Redis; -1 when none does.
    int ownerOf(const QString &label) const;
    int indexOf(const QByteArray &instanceId) const;

    RedisServer &redis() { return m_redis; }
    quint16 haproxyPort() const { return m_haPort; }
    QString label() const { return m_label; }     // the HTTP service's tunnel
    QString wsLabel() const { return m_wsLabel; } // the WebSocket service's tunnel
    ManagedProcess *client() const { return m_client.get(); }
    ManagedProcess *wsClient() const { return m_wsClient.get(); }
    QString wsPython() const { return m_wsPython; }
    QString tempPath(const QString &name) const { return m_dir.filePath(name); }

    // curl arguments and URL for `label` through `port` (haproxy unless given).
    QStringList resolveArgs(const QString &label, quint16 port) const;
    QString url(const QString &label, quint16 port, const QString &pathAndQuery) const;
    CurlResult visit(const QString &pathAndQuery, const QStringList &curlArgs = {}, quint16 port = 0,
                     int timeoutMs = 30000) const;
    // Waits until haproxy sees every instance healthy (a request to each through it answers).
    bool waitAllHealthy(int timeoutMs);

    void dumpOutput() const;

private:
    bool fail(const QString &message);
    bool startHaproxy();
    bool haproxyListening();
    bool startClient(std::unique_ptr<ManagedProcess> *client, const QString &name, quint16 port, QString *label,
                     const QStringList &extra);
    QProcessEnvironment environment() const;

    QTemporaryDir m_dir;
    RedisServer m_redis;
    std::array<std::unique_ptr<ManagedProcess>, kInstances> m_proxies;
    std::array<quint16, kInstances> m_proxyPorts{};
    std::unique_ptr<ManagedProcess> m_haproxy;
    std::unique_ptr<ManagedProcess> m_service;
    std::unique_ptr<ManagedProcess> m_wsService;
    std::unique_ptr<ManagedProcess> m_client;
    std::unique_ptr<ManagedProcess> m_wsClient;
    quint16 m_haPort = 0;
    quint16 m_servicePort = 0;
    quint16 m_wsServicePort = 0;
    QString m_label;
    QString m_wsLabel;
    QString m_wsPython;
    QString m_error;
};

} // namespace keyhole::testing
