#include "BodyView.h"

#include <QTest>

using keyhole::client::BodyView;

class TestBodyView : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void classify_data()
    {
        QTest::addColumn<QByteArray>("body");
        QTest::addColumn<QByteArray>("contentType");
        QTest::addColumn<int>("kind");
        QTest::newRow("empty") << QByteArray() << QByteArray("application/json") << int(BodyView::Kind::Empty);
        QTest::newRow("json") << QByteArray("{\"a\":[1,2]}") << QByteArray("application/json; charset=utf-8")
                              << int(BodyView::Kind::Json);
        QTest::newRow("json+suffix") << QByteArray("[1]") << QByteArray("application/vnd.api+json")
                                     << int(BodyView::Kind::Json);
        QTest::newRow("json without type") << QByteArray(" {\"a\":1}") << QByteArray() << int(BodyView::Kind::Json);
        QTest::newRow("json cut by the preview")
            << QByteArray("{\"a\":[1,2") << QByteArray("application/json") << int(BodyView::Kind::Text);
        QTest::newRow("form") << QByteArray("a=1&b=x+y") << QByteArray("application/x-www-form-urlencoded")
                              << int(BodyView::Kind::Form);
        QTest::newRow("text") << QByteArray("caf\xc3\xa9\r\nline") << QByteArray("text/plain")
                              << int(BodyView::Kind::Text);
        QTest::newRow("utf-8 cut mid-character")
            << QByteArray("caf\xc3") << QByteArray("text/plain") << int(BodyView::Kind::Text);
        QTest::newRow("png") << QByteArray("\x89PNG\r\n\x1a\n\0\0\0\rIHDR", 16) << QByteArray("image/png")
                             << int(BodyView::Kind::Binary);
        QTest::newRow("json type, binary bytes")
            << QByteArray("{\"a\":\"\xff\xfe\"}") << QByteArray("application/json") << int(BodyView::Kind::Binary);
        QTest::newRow("terminal escape") << QByteArray("x\x1b[2J") << QByteArray("text/plain")
                                         << int(BodyView::Kind::Binary);
        QTest::newRow("invalid byte at the end")
            << QByteArray("abc\xff") << QByteArray("text/plain") << int(BodyView::Kind::Binary);
        QTest::newRow("latin-1 declared")
            << QByteArray("caf\xe9") << QByteArray("text/plain; charset=ISO-8859-1") << int(BodyView::Kind::Text);
    }

    void classify()
    {
        QFETCH(QByteArray, body);
        QFETCH(QByteArray, contentType);
        QFETCH(int, kind);
        QCOMPARE(int(BodyView::classify(body, contentType)), kind);
    }

    void jsonIsIndented()
    {
        const QString text = BodyView::render("{\"user\":{\"name\":\"ann\",\"tags\":[\"a\"]}}", "application/json");
        QCOMPARE(text,
                 QStringLiteral("{\n    \"user\": {\n        \"name\": \"ann\",\n        \"tags\": [\n"
                                "            \"a\"\n        ]\n    }\n}"));
    }

    void formIsOneFieldALine()
    {
        QCOMPARE(BodyView::render("name=J%C3%BCrgen+M&empty=&flag", "application/x-www-form-urlencoded"),
                 QStringLiteral("name = Jürgen M\nempty = \nflag = "));
    }

    void latin1IsDecodedAsDeclared()
    {
        QCOMPARE(BodyView::render("caf\xe9", "text/plain; charset=iso-8859-1"), QStringLiteral("café"));
    }

    void binaryIsAHexDump()
    {
        const QByteArray png("\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR\x00\x01\xff", 19);
        const QString text = BodyView::render(png, "image/png");
        QCOMPARE(text,
                 QStringLiteral("00000000  89 50 4e 47 0d 0a 1a 0a  00 00 00 0d 49 48 44 52 |.PNG........IHDR|\n"
                                "00000010  00 01 ff                                         |...|\n"));
        // Nothing but printable ASCII and line ends: no mojibake, nothing a terminal would act on.
        for (const QChar c : text)
            QVERIFY(c == QLatin1Char('\n') || (c.unicode() >= 0x20 && c.unicode() < 0x7f));
    }
};

QTEST_GUILESS_MAIN(TestBodyView)
#include "TestBodyView.moc"
