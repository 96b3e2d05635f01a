#include "RequestEdit.h"

#include <QTest>

using namespace keyhole;
using client::RequestEdit;
using client::RequestRecord;

class TestRequestEdit : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void parseHeaders_data()
    {
        QTest::addColumn<QString>("text");
        QTest::addColumn<bool>("valid");
        QTest::addColumn<int>("count");
        QTest::newRow("two") << QStringLiteral("A: 1\nB:2\n") << true << 2;
        QTest::newRow("blank lines and CRLF") << QStringLiteral("\r\nA: x y \r\n\n") << true << 1;
        QTest::newRow("empty value") << QStringLiteral("A:") << true << 1;
        QTest::newRow("quotes and dollars") << QStringLiteral("A: it's \"$x\"") << true << 1;
        QTest::newRow("no colon") << QStringLiteral("A 1") << false << 0;
        QTest::newRow("space in the name") << QStringLiteral("A B: 1") << false << 0;
        QTest::newRow("empty name") << QStringLiteral(": 1") << false << 0;
        QTest::newRow("CR in the value") << QStringLiteral("A: 1\rB: 2") << false << 0;
        QTest::newRow("NUL in the value") << QStringLiteral("A: 1") + QChar(0) << false << 0;
        QTest::newRow("escape in the value") << QStringLiteral("A: \x1b[2J") << false << 0;
    }

    void parseHeaders()
    {
        QFETCH(QString, text);
        QFETCH(bool, valid);
        QFETCH(int, count);
        QString error;
        const auto headers = RequestEdit::parseHeaders(text, &error);
        QCOMPARE(headers.has_value(), valid);
        if (valid)
            QCOMPARE(int(headers->size()), count);
        else
            QVERIFY(!error.isEmpty());
    }

    void applyEditsAndKeepsABinaryBody()
    {
        RequestRecord r;
        r.method = "POST";
        r.path = "/a";
        r.requestHeaders = {{"X-A", "1"}};
        r.requestBodyPreview = QByteArray("\x00\xff", 2);
        r.bytesIn = 2;
        RequestEdit::Fields fields = RequestEdit::fieldsOf(r);
        QVERIFY(!fields.body); // binary: not editable as text
        QCOMPARE(fields.target, QStringLiteral("/a"));
        fields.method = QStringLiteral(" PUT ");
        fields.target = QStringLiteral("/b?c=d");
        QString error;
        const auto edited = RequestEdit::apply(r, fields, &error);
        QVERIFY2(edited, qPrintable(error));
        QCOMPARE(edited->method, QByteArray("PUT"));
        QCOMPARE(edited->path, QByteArray("/b"));
        QCOMPARE(edited->query, QByteArray("c=d"));
        QCOMPARE(edited->requestBodyPreview, r.requestBodyPreview);

        fields.body = QByteArray("new");
        const auto withBody = RequestEdit::apply(r, fields, &error);
        QCOMPARE(withBody->requestBodyPreview, QByteArray("new"));
        QCOMPARE(withBody->bytesIn, 3);
    }
};

QTEST_GUILESS_MAIN(TestRequestEdit)
#include "TestRequestEdit.moc"
