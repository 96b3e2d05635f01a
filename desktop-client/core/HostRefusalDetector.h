#pragma once

#include <QByteArray>
#include <QString>

namespace keyhole::client {

// Notices a local service that refuses the Host header the visitor sent: dev servers guard against
// DNS rebinding by allowing only their own host names (Vite: "Blocked request. This host (...) is not
// allowed", webpack-dev-server and the Angular CLI: "Invalid Host header", Django, Rails...). Through
// a tunnel that host is the public hostname, so every page is refused until the Host is rewritten.
// Fed each answer of the local service (status and body preview); says so once, so the CLI and the
// tray can print or notify the fix a single time instead of per request.
class HostRefusalDetector
{
public:
    // The most of a body preview that is searched: the refusals are short pages.
    static constexpr qsizetype kScanBytes = 4096;

    // A 400, 403 or 421 whose body reads like a Host refusal.
    static bool looksLikeRefusal(int status, const QByteArray &bodyPreview);

    // True the first time (since construction or reset()) an answer looks like a refusal; the
    // finding is kept for description().
    bool feed(int status, const QByteArray &bodyPreview);
    bool hasFired() const { return m_fired; }
    // What happened, as one sentence for a log or a notification: "the local service at
    // 127.0.0.1:5173 refused the public hostname as Host header (403 "Blocked request. ...")".
    QString description(const QString &targetAuthority) const;
    // Settings changed (e.g. the Host is now rewritten): a new refusal is news again.
    void reset();

private:
    bool m_fired = false;
    int m_status = 0;
    QString m_excerpt;
};

} // namespace keyhole::client
