#include "TestEnvironment.h"

#include <QCryptographicHash>
#include <QFile>
#include <QHostAddress>
#include <QProcess>
#include <QStandardPaths>
#include <QTcpServer>

namespace keyhole::testing {

QString proxyProgram()
{
    return qEnvironmentVariable("KEYHOLE_PROXY");
}

QString cliProgram()
{
    return qEnvironmentVariable("KEYHOLE_CLI");
}

QString pythonProgram()
{
    return qEnvironmentVariable("KEYHOLE_PYTHON", QStringLiteral(KEYHOLE_TEST_PYTHON));
}

QString testServiceScript()
{
    return qEnvironmentVariable("KEYHOLE_TEST_SERVICE", QStringLiteral(KEYHOLE_TEST_SERVICE_SCRIPT));
}

QString wsPythonProgram(QString *error)
{
    // Probed once: every test case asks.
    static const QPair<QString, QString> found = [] {
        QStringList candidates{qEnvironmentVariable("KEYHOLE_PYTHON"), pythonProgram(),
                               QStringLiteral("/usr/bin/python3")};
        QStringList tried;
        for (const QString &candidate : candidates) {
            if (candidate.isEmpty() || tried.contains(candidate))
                continue;
            tried.append(candidate);
            QProcess probe;
            probe.start(candidate, {QStringLiteral("-c"), QStringLiteral("import websockets")});
            if (probe.waitForFinished(15000) && probe.exitStatus() == QProcess::NormalExit && probe.exitCode() == 0)
                return QPair<QString, QString>(candidate, QString());
        }
        return QPair<QString, QString>(
            QString(),
            QStringLiteral("no Python with the websockets module (install python3-websockets); tried: ")
                + tried.join(QStringLiteral(", ")));
    }();
    if (error)
        *error = found.second;
    return found.first;
}

QString wsServiceScript()
{
    return qEnvironmentVariable("KEYHOLE_WS_SERVICE", QStringLiteral(KEYHOLE_TEST_WS_SERVICE_SCRIPT));
}

QString wsClientScript()
{
    return qEnvironmentVariable("KEYHOLE_WS_CLIENT", QStringLiteral(KEYHOLE_TEST_WS_CLIENT_SCRIPT));
}

QString chromiumProgram()
{
    const QString configured = qEnvironmentVariable("KEYHOLE_CHROMIUM");
    if (!configured.isEmpty())
        return configured;
    for (const QString &name : {QStringLiteral("chromium"), QStringLiteral("chromium-browser")}) {
        const QString path = QStandardPaths::findExecutable(name);
        if (!path.isEmpty())
            return path;
    }
    return {};
}

quint16 freeTcpPort()
{
    QTcpServer server;
    if (!server.listen(QHostAddress::LocalHost, 0))
        return 0;
    return server.serverPort();
}

QByteArray deterministicBytes(qsizetype n, const QByteArray &seed)
{
    QByteArray out;
    out.reserve(n + 32);
    for (int i = 0; out.size() < n; ++i)
        out += QCryptographicHash::hash(seed + ':' + QByteArray::number(i), QCryptographicHash::Sha256);
    out.truncate(n);
    return out;
}

QByteArray sha256Hex(const QByteArray &data)
{
    return QCryptographicHash::hash(data, QCryptographicHash::Sha256).toHex();
}

bool writeFile(const QString &path, const QByteArray &data)
{
    QFile file(path);
    return file.open(QIODevice::WriteOnly | QIODevice::Truncate) && file.write(data) == data.size();
}

} // namespace keyhole::testing
