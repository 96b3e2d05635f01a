#pragma once

#include <QByteArray>
#include <QString>

#include <optional>

namespace keyhole::proxy {

// Where Redis is: redis://[[user]:password@]host[:port][/db]. Parsing is strict so that a typo in
// --redis stops the proxy at startup with a clear message instead of retrying a wrong address forever.
// rediss:// (TLS) and unix sockets are refused: hiredis 0.14 has no TLS, and we say so.
struct RedisUrl {
    QString host;
    quint16 port = 6379;
    QByteArray user;     // empty: AUTH password (the default user)
    QByteArray password; // empty: no AUTH
    int db = 0;

    // nullopt with *error set when `text` is not a URL this build can use.
    static std::optional<RedisUrl> parse(const QString &text, QString *error);
    // For logs: the URL without the password.
    QString redacted() const;
};

} // namespace keyhole::proxy
