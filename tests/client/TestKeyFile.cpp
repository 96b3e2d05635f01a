#include "KeyFile.h"
#include "ReplaceFile.h"
#include "crypto/Label.h"

#include <QDir>
#include <QFile>
#include <QFileInfo>
#include <QProcess>
#include <QTemporaryDir>
#include <QTest>

#ifdef Q_OS_UNIX
#include <sys/stat.h>
#include <unistd.h>
#endif

using keyhole::client::KeyFile;
using keyhole::client::ReplaceFile;

class TestKeyFile : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void createsOnFirstRunWithOwnerOnlyPermissions();
    void reloadGivesTheSameLabel();
    void badFileIsAnErrorAndUntouched_data();
    void badFileIsAnErrorAndUntouched();
    void loadWithoutFileIsAnError();
    void unreadableFileIsAnError();
    void ownerOnlyFromTheFirstByte();
    void saveReplacesASymlinkWithoutFollowingIt();
};

void TestKeyFile::createsOnFirstRunWithOwnerOnlyPermissions()
{
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString path = dir.filePath(QStringLiteral("nested/config/key.pem"));
    KeyFile::Result result = KeyFile::loadOrCreate(path);
    QVERIFY2(result, qPrintable(result.error));
    QVERIFY(result.created);
    QVERIFY(result.key->hasPrivateKey());
    QVERIFY(QFile::exists(path));
#ifdef Q_OS_UNIX
    QCOMPARE(QFile::permissions(path),
             QFileDevice::ReadOwner | QFileDevice::WriteOwner | QFileDevice::ReadUser | QFileDevice::WriteUser);
#endif
    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QVERIFY(file.readAll().contains("PRIVATE KEY"));
}

void TestKeyFile::reloadGivesTheSameLabel()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("key.pem"));
    KeyFile::Result first = KeyFile::loadOrCreate(path);
    QVERIFY2(first, qPrintable(first.error));
    const QString label = keyhole::crypto::labelForKey(*first.key);
    QVERIFY(keyhole::crypto::isValidLabel(label));

    KeyFile::Result second = KeyFile::loadOrCreate(path);
    QVERIFY2(second, qPrintable(second.error));
    QVERIFY(!second.created);
    QCOMPARE(keyhole::crypto::labelForKey(*second.key), label);

    KeyFile::Result third = KeyFile::load(path);
    QVERIFY(third);
    QCOMPARE(keyhole::crypto::labelForKey(*third.key), label);

    // And a second, separate key gets another label.
    KeyFile::Result other = KeyFile::loadOrCreate(dir.filePath(QStringLiteral("other.pem")));
    QVERIFY(other);
    QVERIFY(keyhole::crypto::labelForKey(*other.key) != label);
}

void TestKeyFile::badFileIsAnErrorAndUntouched_data()
{
    QTest::addColumn<QByteArray>("content");
    QTest::newRow("garbage") << QByteArray("this is not a key\n\x01\x02\xff", 22);
    QTest::newRow("empty") << QByteArray();
    QTest::newRow("truncated pem") << QByteArray("-----BEGIN PRIVATE KEY-----\nMIGHAgEAMBMGByqGSM49\n");
}

void TestKeyFile::badFileIsAnErrorAndUntouched()
{
    QFETCH(QByteArray, content);
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("key.pem"));
    {
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
    }
    KeyFile::Result result = KeyFile::loadOrCreate(path);
    QVERIFY(!result);
    QVERIFY(!result.created);
    QVERIFY2(result.error.contains(path), qPrintable(result.error));

    QFile file(path);
    QVERIFY(file.open(QIODevice::ReadOnly));
    QCOMPARE(file.readAll(), content);
}

void TestKeyFile::loadWithoutFileIsAnError()
{
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("missing.pem"));
    KeyFile::Result result = KeyFile::load(path);
    QVERIFY(!result);
    QVERIFY(!result.error.isEmpty());
    QVERIFY(!QFile::exists(path));
}

void TestKeyFile::unreadableFileIsAnError()
{
#ifdef Q_OS_UNIX
    if (::geteuid() == 0) {
        // Root reads any file, so the check runs in a child of this executable as nobody (CI runs as root).
        QProcess child;
        QProcessEnvironment env = QProcessEnvironment::systemEnvironment();
        env.insert(QStringLiteral("TMPDIR"), QStringLiteral("/tmp"));
        env.insert(QStringLiteral("HOME"), QStringLiteral("/tmp"));
        child.setProcessEnvironment(env);
        child.setProcessChannelMode(QProcess::MergedChannels);
        child.start(QStringLiteral("setpriv"),
                    {QStringLiteral("--reuid=65534"), QStringLiteral("--regid=65534"), QStringLiteral("--clear-groups"),
                     QCoreApplication::applicationFilePath(), QStringLiteral("unreadableFileIsAnError")});
        QVERIFY2(child.waitForStarted(10000), "setpriv (util-linux) did not start");
        QVERIFY(child.waitForFinished(60000));
        const QByteArray output = child.readAll();
        QVERIFY2(child.exitStatus() == QProcess::NormalExit && child.exitCode() == 0, output.constData());
        QVERIFY2(output.contains("PASS   : TestKeyFile::unreadableFileIsAnError()"), output.constData());
        return;
    }
    QTemporaryDir dir;
    const QString path = dir.filePath(QStringLiteral("key.pem"));
    KeyFile::Result created = KeyFile::loadOrCreate(path);
    QVERIFY(created);
    QVERIFY(QFile::setPermissions(path, QFileDevice::WriteOwner));
    QFile probe(path);
    if (probe.open(QIODevice::ReadOnly))
        QFAIL("file permissions do not apply to this user (CAP_DAC_OVERRIDE without being root?)");
    KeyFile::Result result = KeyFile::loadOrCreate(path);
    QVERIFY(!result);
    QVERIFY2(result.error.contains(QLatin1String("cannot read")), qPrintable(result.error));
    QVERIFY(QFile::setPermissions(path, QFileDevice::ReadOwner | QFileDevice::WriteOwner));
    QVERIFY(KeyFile::load(path));
#else
    QSKIP("POSIX permissions only");
#endif
}

void TestKeyFile::ownerOnlyFromTheFirstByte()
{
#ifndef Q_OS_UNIX
    QSKIP("POSIX permissions");
#else
    // The usual umask: a file created without explicit permissions would be 0644 until chmod.
    const mode_t previous = ::umask(022);
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    QStringList created;
    QList<QFileDevice::Permissions> atCreation;
    QList<qint64> sizeAtCreation;
    ReplaceFile::setCreatedHookForTests([&](const QString &path) {
        created.append(path);
        atCreation.append(QFile::permissions(path));
        sizeAtCreation.append(QFileInfo(path).size());
    });
    const QString path = dir.filePath(QStringLiteral("key.pem"));
    const KeyFile::Result result = KeyFile::loadOrCreate(path);
    ReplaceFile::setCreatedHookForTests({});
    ::umask(previous);
    QVERIFY2(result, qPrintable(result.error));
    QCOMPARE(created.size(), 1);
    QCOMPARE(sizeAtCreation.first(), qint64(0));
    const auto others = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ExeGroup
        | QFileDevice::ReadOther | QFileDevice::WriteOther | QFileDevice::ExeOther;
    QVERIFY2(!(atCreation.first() & others),
             qPrintable(QStringLiteral("created with permissions %1").arg(int(atCreation.first()), 0, 16)));
    QVERIFY(!QFile::exists(created.first())); // renamed into place
    QVERIFY(!(QFile::permissions(path) & others));
#endif
}

void TestKeyFile::saveReplacesASymlinkWithoutFollowingIt()
{
#ifndef Q_OS_UNIX
    QSKIP("symlinks");
#else
    QTemporaryDir dir;
    QVERIFY(dir.isValid());
    const QString target = dir.filePath(QStringLiteral("elsewhere.txt"));
    QFile elsewhere(target);
    QVERIFY(elsewhere.open(QIODevice::WriteOnly));
    elsewhere.write("untouched");
    elsewhere.close();
    const QString path = dir.filePath(QStringLiteral("exported.pem"));
    QVERIFY(QFile::link(target, path));

    QString error;
    QVERIFY2(KeyFile::save(path, "-----BEGIN PRIVATE KEY-----\n", &error), qPrintable(error));
    QVERIFY(!QFileInfo(path).isSymLink());
    QVERIFY(elsewhere.open(QIODevice::ReadOnly));
    QCOMPARE(elsewhere.readAll(), QByteArray("untouched"));
    QFile saved(path);
    QVERIFY(saved.open(QIODevice::ReadOnly));
    QCOMPARE(saved.readAll(), QByteArray("-----BEGIN PRIVATE KEY-----\n"));
    QCOMPARE(QDir(dir.path()).entryList(QDir::Files | QDir::Hidden | QDir::System).size(), 2);
#endif
}

QTEST_GUILESS_MAIN(TestKeyFile)
#include "TestKeyFile.moc"
