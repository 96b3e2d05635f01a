#pragma once

#include <QString>
#include <QUrl>

namespace keyhole::client {

// What a tunnel needs to run. Plain data: the CLI fills it from its arguments, the tray app edits a
// copy and applies it. validate() says what is wrong in words a user understands.
struct ClientSettings {
    static constexpr int kDefaultMaxConcurrentLocal = 32;

    QUrl proxyUrl = QUrl(QStringLiteral("http://localhost:8080"));
    QUrl target;        // http://127.0.0.1:3000 or https://host:8443
    QString keyPath;    // PEM file, created on first run
    QString name;       // optional tunnel name (another hostname for the same key)
    QString caFile;     // extra CA certificates for a wss proxy or an https target
    QString hostHeader; // empty: keep the visitor's Host; "rewrite": the target's host:port; else literal
    int maxConcurrentLocal = kDefaultMaxConcurrentLocal;

    // Empty when usable; otherwise one sentence naming the problem.
    QString validate() const;

    // <proxy>/proxy/subscribe with ws:// for http:// and wss:// for https://.
    QUrl subscribeUrl() const;
    // The proxy URL as the registration token names it: lowercase scheme and host, no default port,
    // no trailing '/'. The proxy compares it with its own public URL.
    QString audience() const;
    // "127.0.0.1:3000", for messages and the rewritten Host header.
    QString targetAuthority() const;

    // ~/.config/keyhole/key.pem (QStandardPaths::AppConfigLocation of application "keyhole").
    static QString defaultKeyPath();
    static QString normalizeAudience(const QUrl &proxyUrl);

    bool operator==(const ClientSettings &other) const;
    bool operator!=(const ClientSettings &other) const { return !(*this == other); }
};

} // namespace keyhole::client
