#include "HostRefusalDetector.h"

#include <array>

namespace keyhole::client {

namespace {

// Lowercase; matched against the lowercased start of the body.
constexpr std::array kRefusalPhrases = {
    "blocked request. this host",     // Vite (server.allowedHosts)
    "invalid host header",            // webpack-dev-server, Angular CLI, Vue CLI (allowedHosts)
    "invalid http_host header",       // Django (ALLOWED_HOSTS), with DEBUG on
    "disallowedhost",                 // Django, the exception's name
    "blocked host",                   // Rails (config.hosts)
    "bad request - invalid hostname", // HTTP.sys / IIS Express
};

constexpr qsizetype kExcerptChars = 120;

} // namespace

bool HostRefusalDetector::looksLikeRefusal(int status, const QByteArray &bodyPreview)
{
    if (status != 400 && status != 403 && status != 421)
        return false;
    const QByteArray body = bodyPreview.left(kScanBytes).toLower();
    for (const char *phrase : kRefusalPhrases) {
        if (body.contains(phrase))
            return true;
    }
    return false;
}

bool HostRefusalDetector::feed(int status, const QByteArray &bodyPreview)
{
    if (m_fired || !looksLikeRefusal(status, bodyPreview))
        return false;
    m_fired = true;
    m_status = status;
    // The service's own words, on one line and short: the body is the local service's, not ours.
    QString excerpt = QString::fromUtf8(bodyPreview.left(kScanBytes)).simplified();
    if (excerpt.size() > kExcerptChars)
        excerpt = excerpt.left(kExcerptChars - 1) + QChar(0x2026);
    m_excerpt = excerpt;
    return true;
}

QString HostRefusalDetector::description(const QString &targetAuthority) const
{
    if (!m_fired)
        return {};
    return QStringLiteral("the local service at %1 refused the public hostname as Host header (%2 \"%3\")")
        .arg(targetAuthority)
        .arg(m_status)
        .arg(m_excerpt);
}

void HostRefusalDetector::reset()
{
    m_fired = false;
    m_status = 0;
    m_excerpt.clear();
}

} // namespace keyhole::client
