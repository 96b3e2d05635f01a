#include "KeyStore.h"
#include "KeysDialog.h"
#include "TrayController.h"
#include "crypto/Label.h"

#include <QFile>
#include <QLabel>
#include <QTemporaryDir>
#include <QTest>

using namespace keyhole;
using tray::KeyStore;

class TestKeyStore : public QObject
{
    Q_OBJECT

private:
    static bool ownerOnly(const QString &path)
    {
        const auto others = QFileDevice::ReadGroup | QFileDevice::WriteGroup | QFileDevice::ReadOther
            | QFileDevice::WriteOther;
        return !(QFile::permissions(path) & others);
    }

private Q_SLOTS:
    void fileBackendCreatesOnceThenLoads()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("sub/key.pem"));
        KeyStore store(path, KeyStore::Backend::File);
        QCOMPARE(store.backend(), KeyStore::Backend::File);
        QVERIFY(store.note().contains(QStringLiteral("key.pem")));

        KeyStore::Result first = store.loadOrCreate();
        QVERIFY2(first, qPrintable(first.error));
        QVERIFY(first.created);
        QVERIFY(QFile::exists(path));
        QVERIFY(ownerOnly(path));

        KeyStore::Result second = KeyStore(path, KeyStore::Backend::File).loadOrCreate();
        QVERIFY2(second, qPrintable(second.error));
        QVERIFY(!second.created);
        QCOMPARE(second.key->thumbprint(), first.key->thumbprint());
    }

    void unreadableKeyIsNotReplaced()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("key.pem"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write("not a key");
        file.close();
        KeyStore::Result result = KeyStore(path, KeyStore::Backend::File).loadOrCreate();
        QVERIFY(!result);
        QVERIFY(!result.error.isEmpty());
        QFile again(path);
        QVERIFY(again.open(QIODevice::ReadOnly));
        QCOMPARE(again.readAll(), QByteArray("not a key"));
    }

    void storeReplacesTheKey()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("key.pem"));
        KeyStore store(path, KeyStore::Backend::File);
        QVERIFY(store.loadOrCreate());
        std::optional<crypto::KeyPair> other = crypto::KeyPair::generate();
        QVERIFY(other);
        QString error;
        QVERIFY2(store.store(*other, &error), qPrintable(error));
        QVERIFY(ownerOnly(path));
        KeyStore::Result loaded = store.loadOrCreate();
        QVERIFY(loaded);
        QCOMPARE(loaded.key->thumbprint(), other->thumbprint());
    }

    void exportImportRoundTrip()
    {
        QTemporaryDir dir;
        std::optional<crypto::KeyPair> key = crypto::KeyPair::generate();
        QVERIFY(key);
        const QString exported = dir.filePath(QStringLiteral("export.pem"));
        QString error;
        QVERIFY2(KeyStore::exportPem(*key, exported, &error), qPrintable(error));
        QVERIFY(ownerOnly(exported));
        std::optional<crypto::KeyPair> imported = KeyStore::importPem(exported, &error);
        QVERIFY2(imported, qPrintable(error));
        QCOMPARE(imported->thumbprint(), key->thumbprint());
        QCOMPARE(crypto::labelForKey(*imported), crypto::labelForKey(*key));
    }

    void importRejectsGarbage_data()
    {
        QTest::addColumn<QByteArray>("content");
        QTest::newRow("text") << QByteArray("hello");
        QTest::newRow("truncated pem") << QByteArray("-----BEGIN PRIVATE KEY-----\nMIGH\n-----END PRIVATE KEY-----\n");
        QTest::newRow("too large") << QByteArray(100 * 1024, 'A');
    }

    void importRejectsGarbage()
    {
        QFETCH(QByteArray, content);
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("bad.pem"));
        QFile file(path);
        QVERIFY(file.open(QIODevice::WriteOnly));
        file.write(content);
        file.close();
        QString error;
        QVERIFY(!KeyStore::importPem(path, &error));
        QVERIFY(!error.isEmpty());
        QVERIFY(!KeyStore::importPem(dir.filePath(QStringLiteral("missing.pem")), &error));
    }

    void keysDialogGenerateImportExport()
    {
        QTemporaryDir dir;
        const QString path = dir.filePath(QStringLiteral("key.pem"));
        KeyStore store(path, KeyStore::Backend::File);
        KeyStore::Result initial = store.loadOrCreate();
        QVERIFY(initial);
        const QString initialLabel = crypto::labelForKey(*initial.key);

        tray::AppSettings settings;
        settings.proxyUrl = QUrl(QStringLiteral("http://proxy.test:8080"));
        tray::TrayController controller(settings, std::move(*initial.key), path);
        tray::KeysDialog dialog(&controller, &store);
        QCOMPARE(dialog.labelText(), initialLabel);
        QCOMPARE(dialog.hostnameText(), initialLabel + QStringLiteral(".proxy.test"));
        QVERIFY(dialog.findChild<QLabel *>(QStringLiteral("note"))->text().contains(QStringLiteral("key.pem")));

        // Export, generate a new key (new label, stored), then import the export back.
        const QString exported = dir.filePath(QStringLiteral("backup.pem"));
        QString error;
        QVERIFY2(dialog.exportTo(exported, &error), qPrintable(error));
        QVERIFY(ownerOnly(exported));

        QVERIFY2(dialog.generateNewKey(&error), qPrintable(error));
        const QString newLabel = controller.label();
        QVERIFY(newLabel != initialLabel);
        QCOMPARE(dialog.labelText(), newLabel);
        QCOMPARE(crypto::labelForKey(*store.loadOrCreate().key), newLabel);

        QVERIFY2(dialog.importFrom(exported, &error), qPrintable(error));
        QCOMPARE(controller.label(), initialLabel);
        QCOMPARE(dialog.labelText(), initialLabel);
        QCOMPARE(crypto::labelForKey(*store.loadOrCreate().key), initialLabel);

        // A failed import changes nothing.
        QVERIFY(!dialog.importFrom(dir.filePath(QStringLiteral("missing.pem")), &error));
        QCOMPARE(controller.label(), initialLabel);
    }
};

QTEST_MAIN(TestKeyStore)
#include "TestKeyStore.moc"
