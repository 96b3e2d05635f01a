#include "tunnels/AuthorizedKeys.h"

#include <QTest>

using keyhole::proxy::AuthorizedKeys;

namespace {
const QString kLabel = QStringLiteral("y5aahmzqnf6g6azm7vfpiuxveq3jaik26k4m3xarzlukvjmmullq");
}

class TestAuthorizedKeys : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void testAuthorizedKeys()
    {
        QStringList problems;
        const AuthorizedKeys keys = AuthorizedKeys::parse(
            "# team keys\n" + kLabel.toUpper().toLatin1() + "   # alice\n\n  \nnot-a-label\n", &problems);
        QCOMPARE(keys.size(), 1);
        QVERIFY(keys.contains(kLabel));
        QCOMPARE(problems.size(), 1);
        QVERIFY(problems.first().contains(QStringLiteral("line 5")));
    }
};

QTEST_GUILESS_MAIN(TestAuthorizedKeys)
#include "TestAuthorizedKeys.moc"
