#include "SingleInstance.h"

#include <QCryptographicHash>
#include <QDir>
#include <QFileInfo>
#include <QLocalServer>
#include <QLocalSocket>
#include <QStandardPaths>

namespace keyhole::tray {

namespace {

constexpr int kConnectTimeoutMs = 1000;
const QByteArray kShowCommand = QByteArrayLiteral("show\n");

} // namespace

SingleInstance::SingleInstance(const QString &name, QObject *parent)
    : QObject(parent)
    , m_name(name.isEmpty() ? defaultName() : name)
{
}

SingleInstance::~SingleInstance() = default;

QString SingleInstance::defaultName()
{
#ifdef Q_OS_WIN
    // A named pipe: Windows keeps pipe names per session and UserAccessOption limits it to this user.
    const QByteArray user = QCryptographicHash::hash(QDir::homePath().toUtf8(), QCryptographicHash::Sha256).toHex();
    return QStringLiteral("keyhole-tray-") + QString::fromLatin1(user.left(16));
#else
    // A socket file in the user's own runtime folder (XDG_RUNTIME_DIR, mode 0700; Qt checks that):
    // under the shared temp folder, another user could create the name first and pose as us.
    const QString folder = QStandardPaths::writableLocation(QStandardPaths::RuntimeLocation);
    return QDir(folder).filePath(QStringLiteral("keyhole-tray.socket"));
#endif
}

QString SingleInstance::nameForProfile(const QString &settingsFile, const QString &keyFile)
{
    if (settingsFile.isEmpty() && keyFile.isEmpty())
        return defaultName();
    // The same files however they were spelled (relative, absolute, with ./).
    auto canonical = [](const QString &path) {
        return path.isEmpty() ? QString() : QFileInfo(path).absoluteFilePath();
    };
    const QByteArray profile = canonical(settingsFile).toUtf8() + '\0' + canonical(keyFile).toUtf8();
    const QString tag = QString::fromLatin1(
        QCryptographicHash::hash(profile, QCryptographicHash::Sha256).toHex().left(16));
    QString name = defaultName();
#ifdef Q_OS_WIN
    return name + QLatin1Char('-') + tag;
#else
    const QString suffix = QStringLiteral(".socket");
    if (name.endsWith(suffix))
        name.chop(suffix.size());
    return name + QLatin1Char('-') + tag + suffix;
#endif
}

bool SingleInstance::claim()
{
    {
        QLocalSocket socket;
        socket.connectToServer(m_name);
        if (socket.waitForConnected(kConnectTimeoutMs)) {
            socket.write(kShowCommand);
            socket.waitForBytesWritten(kConnectTimeoutMs);
            socket.disconnectFromServer();
            return false;
        }
    }
    // Nobody answered: a socket file left by a crashed instance would make listen() fail.
    QLocalServer::removeServer(m_name);
    m_server = new QLocalServer(this);
    m_server->setSocketOptions(QLocalServer::UserAccessOption);
    if (!m_server->listen(m_name)) {
        m_error = m_server->errorString();
        return false;
    }
    connect(m_server, &QLocalServer::newConnection, this, &SingleInstance::onNewConnection);
    return true;
}

void SingleInstance::onNewConnection()
{
    while (QLocalSocket *socket = m_server->nextPendingConnection()) {
        connect(socket, &QLocalSocket::disconnected, socket, &QObject::deleteLater);
        const auto handle = [this, socket] {
            // Only the one command; anything else (or more than a line) is ignored.
            if (socket->bytesAvailable() > 64) {
                socket->abort();
                return;
            }
            if (!socket->canReadLine())
                return;
            if (socket->readLine() == kShowCommand)
                Q_EMIT showRequested();
            socket->disconnectFromServer();
        };
        connect(socket, &QLocalSocket::readyRead, this, handle);
        handle(); // the command may have arrived with the connection
    }
}

} // namespace keyhole::tray
