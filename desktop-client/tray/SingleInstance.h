#pragma once

#include <QObject>
#include <QString>

class QLocalServer;

namespace keyhole::tray {

// One tray app per user: the first instance listens on a local socket in the user's runtime folder
// (a per-user named pipe on Windows); a second launch finds it, asks it to show itself and exits.
class SingleInstance : public QObject
{
    Q_OBJECT

public:
    // `name` overrides the socket name (tests); the default is defaultName().
    explicit SingleInstance(const QString &name = {}, QObject *parent = nullptr);
    ~SingleInstance() override;

    // True: this is the first instance and now listens. False: another one runs and was told to
    // show itself (or, rarely, the socket could not be set up; see errorString()).
    bool claim();
    QString serverName() const { return m_name; }
    QString errorString() const { return m_error; }

    static QString defaultName();
    // One name per profile: the default profile gets defaultName(), one with its own settings or key
    // file (--settings, --key) a name of its own, so a second profile runs beside the first while a
    // second launch of the same profile still finds the first.
    static QString nameForProfile(const QString &settingsFile, const QString &keyFile);

Q_SIGNALS:
    // A later launch asked this instance to show itself.
    void showRequested();

private:
    void onNewConnection();

    QString m_name;
    QString m_error;
    QLocalServer *m_server = nullptr;
};

} // namespace keyhole::tray
