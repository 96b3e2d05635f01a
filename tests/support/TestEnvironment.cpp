#include "TestEnvironment.h"

#include <QCryptographicHash>
#include <QFile>
#include <QHostAddress>
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
