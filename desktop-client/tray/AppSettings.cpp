#include "AppSettings.h"

#include <QSettings>

namespace keyhole::tray {

namespace {

// Keys in the settings file; changing one loses what users saved under it.
const QString kProxyUrl = QStringLiteral("tunnel/proxyUrl");
const QString kTargetScheme = QStringLiteral("tunnel/targetScheme");
const QString kTargetHost = QStringLiteral("tunnel/targetHost");
const QString kTargetPort = QStringLiteral("tunnel/targetPort");
const QString kName = QStringLiteral("tunnel/name");
const QString kCaFile = QStringLiteral("tunnel/caFile");
const QString kHostHeader = QStringLiteral("tunnel/hostHeader");
const QString kStartTunnel = QStringLiteral("app/startTunnelOnLaunch");
const QString kStartAtLogin = QStringLiteral("app/startAtLogin");
const QString kFirstRunDone = QStringLiteral("app/firstRunDone");

} // namespace

QUrl AppSettings::targetUrl() const
{
    QUrl url;
    url.setScheme(targetScheme);
    url.setHost(targetHost);
    url.setPort(targetPort);
    return url;
}

client::ClientSettings AppSettings::toClientSettings(const QString &keyPath) const
{
    client::ClientSettings settings;
    settings.proxyUrl = proxyUrl;
    settings.target = targetUrl();
    settings.keyPath = keyPath;
    settings.name = name;
    settings.caFile = caFile;
    settings.hostHeader = hostHeader;
    return settings;
}

QString AppSettings::validate() const
{
    if (proxyUrl.isEmpty())
        return QStringLiteral("Enter the URL of the keyhole proxy, e.g. https://tunnel.example.com.");
    if (targetScheme != QLatin1String("http") && targetScheme != QLatin1String("https"))
        return QStringLiteral("The local service must use http or https.");
    if (targetHost.trimmed().isEmpty())
        return QStringLiteral("Enter the host of the local service, e.g. 127.0.0.1.");
    if (targetPort < 1 || targetPort > 65535)
        return QStringLiteral("The local port must be between 1 and 65535.");
    if (!targetUrl().isValid())
        return QStringLiteral("\"%1\" is not a valid host name.").arg(targetHost);
    // The core's check covers the rest (proxy URL form, tunnel name, CA file); its sentence starts
    // in lowercase because the CLI prefixes it.
    QString problem = toClientSettings(QStringLiteral("key")).validate();
    if (!problem.isEmpty()) {
        problem[0] = problem.at(0).toUpper();
        if (!problem.endsWith(QLatin1Char('.')))
            problem += QLatin1Char('.');
    }
    return problem;
}

AppSettings AppSettings::load(QSettings &settings)
{
    AppSettings s;
    s.proxyUrl = QUrl(settings.value(kProxyUrl, s.proxyUrl.toString()).toString());
    s.targetScheme = settings.value(kTargetScheme, s.targetScheme).toString();
    s.targetHost = settings.value(kTargetHost, s.targetHost).toString();
    s.targetPort = settings.value(kTargetPort, s.targetPort).toInt();
    s.name = settings.value(kName, s.name).toString();
    s.caFile = settings.value(kCaFile, s.caFile).toString();
    s.hostHeader = settings.value(kHostHeader, s.hostHeader).toString();
    s.startTunnelOnLaunch = settings.value(kStartTunnel, s.startTunnelOnLaunch).toBool();
    s.startAtLogin = settings.value(kStartAtLogin, s.startAtLogin).toBool();
    s.firstRunDone = settings.value(kFirstRunDone, s.firstRunDone).toBool();
    return s;
}

void AppSettings::save(QSettings &settings) const
{
    settings.setValue(kProxyUrl, proxyUrl.toString());
    settings.setValue(kTargetScheme, targetScheme);
    settings.setValue(kTargetHost, targetHost);
    settings.setValue(kTargetPort, targetPort);
    settings.setValue(kName, name);
    settings.setValue(kCaFile, caFile);
    settings.setValue(kHostHeader, hostHeader);
    settings.setValue(kStartTunnel, startTunnelOnLaunch);
    settings.setValue(kStartAtLogin, startAtLogin);
    settings.setValue(kFirstRunDone, firstRunDone);
    settings.sync();
}

bool AppSettings::operator==(const AppSettings &other) const
{
    return proxyUrl == other.proxyUrl && targetScheme == other.targetScheme && targetHost == other.targetHost
        && targetPort == other.targetPort && name == other.name && caFile == other.caFile
        && hostHeader == other.hostHeader && startTunnelOnLaunch == other.startTunnelOnLaunch
        && startAtLogin == other.startAtLogin && firstRunDone == other.firstRunDone;
}

} // namespace keyhole::tray
