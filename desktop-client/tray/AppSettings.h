#pragma once

#include "ClientSettings.h"

#include <QString>
#include <QUrl>

class QSettings;

namespace keyhole::tray {

// What the user sets in the tray app. Plain data with defaults; load()/save() are the app's only
// use of QSettings for it. Dialogs edit a copy and hand it back whole.
struct AppSettings {
    QUrl proxyUrl = QUrl(QStringLiteral("http://localhost:8080"));
    QString targetScheme = QStringLiteral("http");
    QString targetHost = QStringLiteral("127.0.0.1");
    int targetPort = 3000;
    QString name;   // optional tunnel name
    QString caFile; // extra CA certificates (PEM)
    // The Host header the local service sees: empty keeps the visitor's (the public hostname),
    // "rewrite" sends the target's host:port (what dev servers accept), anything else is sent as is.
    QString hostHeader;
    bool startTunnelOnLaunch = true;
    bool startAtLogin = false;
    bool firstRunDone = false; // the first-run dialog was completed once

    // http://127.0.0.1:3000
    QUrl targetUrl() const;
    // The client core's settings; `keyPath` only matters to ClientSettings::validate().
    client::ClientSettings toClientSettings(const QString &keyPath) const;
    // Empty when usable; otherwise one sentence naming the problem.
    QString validate() const;

    static AppSettings load(QSettings &settings);
    void save(QSettings &settings) const;

    bool operator==(const AppSettings &other) const;
    bool operator!=(const AppSettings &other) const { return !(*this == other); }
};

} // namespace keyhole::tray
