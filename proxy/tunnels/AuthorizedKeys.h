#pragma once

#include <QSet>
#include <QString>

#include <optional>

namespace keyhole::proxy {

// The --authorized-keys file: one key label per line, '#' starts a comment. A key listed here may
// register its own hostname and any named one derived from it.
class AuthorizedKeys
{
public:
    static std::optional<AuthorizedKeys> load(const QString &path, QString *error);
    static AuthorizedKeys parse(const QByteArray &text, QStringList *problems = nullptr);

    bool contains(const QString &keyLabel) const { return m_labels.contains(keyLabel); }
    qsizetype size() const { return m_labels.size(); }
    bool operator==(const AuthorizedKeys &other) const { return m_labels == other.m_labels; }

private:
    QSet<QString> m_labels;
};

} // namespace keyhole::proxy
