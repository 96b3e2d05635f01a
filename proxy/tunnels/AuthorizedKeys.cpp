#include "tunnels/AuthorizedKeys.h"

#include "crypto/Label.h"

#include <QFile>

namespace keyhole::proxy {

std::optional<AuthorizedKeys> AuthorizedKeys::load(const QString &path, QString *error)
{
    QFile file(path);
    if (!file.open(QIODevice::ReadOnly)) {
        *error = QStringLiteral("cannot read %1: %2").arg(path, file.errorString());
        return std::nullopt;
    }
    QStringList problems;
    AuthorizedKeys keys = parse(file.readAll(), &problems);
    if (!problems.isEmpty()) {
        *error = QStringLiteral("%1: %2").arg(path, problems.join(QStringLiteral("; ")));
        return std::nullopt;
    }
    return keys;
}

AuthorizedKeys AuthorizedKeys::parse(const QByteArray &text, QStringList *problems)
{
    AuthorizedKeys keys;
    int lineNumber = 0;
    for (const QByteArray &rawLine : text.split('\n')) {
        ++lineNumber;
        QByteArray line = rawLine;
        const qsizetype hash = line.indexOf('#');
        if (hash >= 0)
            line.truncate(hash);
        const QString label = QString::fromUtf8(line.trimmed()).toLower();
        if (label.isEmpty())
            continue;
        if (!crypto::isValidLabel(label)) {
            if (problems)
                problems->append(
                    QStringLiteral("line %1 is not a key label (52 characters of a-z, 2-7)").arg(lineNumber));
            continue;
        }
        keys.m_labels.insert(label);
    }
    return keys;
}

} // namespace keyhole::proxy
