#pragma once

#include <QByteArray>
#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>
#include <QStringList>

namespace keyhole::testing {

// What test_service.py's /echo saw, parsed from its JSON answer.
struct EchoResponse {
    bool valid = false;
    QString method;
    QString path;
    QString query;
    QList<QPair<QString, QString>> headers;
    QByteArray bodySha256;
    qint64 bodyLength = -1;

    static EchoResponse parse(const QByteArray &json)
    {
        EchoResponse echo;
        const QJsonObject doc = QJsonDocument::fromJson(json).object();
        if (doc.isEmpty())
            return echo;
        echo.valid = true;
        echo.method = doc.value(QStringLiteral("method")).toString();
        echo.path = doc.value(QStringLiteral("path")).toString();
        echo.query = doc.value(QStringLiteral("query")).toString();
        for (const QJsonValue &pair : doc.value(QStringLiteral("headers")).toArray()) {
            const QJsonArray nameValue = pair.toArray();
            echo.headers.append({nameValue.at(0).toString(), nameValue.at(1).toString()});
        }
        echo.bodySha256 = doc.value(QStringLiteral("body_sha256")).toString().toLatin1();
        echo.bodyLength = doc.value(QStringLiteral("body_length")).toInteger(-1);
        return echo;
    }

    QStringList headerValues(const QString &name) const
    {
        QStringList values;
        for (const auto &h : headers) {
            if (h.first.compare(name, Qt::CaseInsensitive) == 0)
                values.append(h.second);
        }
        return values;
    }
};

} // namespace keyhole::testing
