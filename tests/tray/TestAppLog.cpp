#include "AppLog.h"

#include <QFile>
#include <QFileInfo>
#include <QLoggingCategory>
#include <QTemporaryDir>
#include <QTest>

using keyhole::tray::AppLog;

Q_LOGGING_CATEGORY(lcAppLogTest, "keyhole.test.applog")

class TestAppLog : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void cleanup() { AppLog::uninstall(); }

    void writesMessagesToTheFile()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("sub/keyhole.log"));
        QString error;
        QVERIFY2(AppLog::install(path, AppLog::kDefaultMaxBytes, &error), qPrintable(error));
        QCOMPARE(AppLog::path(), path);
        qCWarning(lcAppLogTest, "the local service is not answering:\nforged line");
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        const QByteArray text = file.readAll();
        QVERIFY2(text.contains("warning keyhole.test.applog: the local service is not answering:\\nforged line\n"),
                 text.constData());
        QCOMPARE(text.count('\n'), 1);
    }

    void staysBounded()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        const QString path = dir.filePath(QStringLiteral("keyhole.log"));
        const qint64 maxBytes = 4096;
        QVERIFY(AppLog::install(path, maxBytes));
        for (int i = 0; i < 500; ++i)
            qCInfo(lcAppLogTest, "line %d of a log that outgrows its bound", i);
        QVERIFY(QFile::exists(path + QStringLiteral(".1")));
        QVERIFY(QFileInfo(path).size() <= maxBytes);
        QVERIFY(QFileInfo(path + QStringLiteral(".1")).size() <= maxBytes);
        QFile file(path);
        QVERIFY(file.open(QIODevice::ReadOnly));
        QVERIFY(file.readAll().contains("line 499 of"));
    }

    void unwritablePathFails()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        QFile blocker(dir.filePath(QStringLiteral("file")));
        QVERIFY(blocker.open(QIODevice::WriteOnly));
        blocker.close();
        QString error;
        QVERIFY(!AppLog::install(dir.filePath(QStringLiteral("file/keyhole.log")), AppLog::kDefaultMaxBytes, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(AppLog::path().isEmpty());
    }
};

QTEST_MAIN(TestAppLog)
#include "TestAppLog.moc"
