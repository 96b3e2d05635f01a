#include "protocol/SharedSlice.h"

#include <QTest>

using namespace keyhole::protocol;

class TestSharedSlice : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void slices_data();
    void slices();
    void rawDataIsCopied();
};

namespace {
QByteArray pattern(qsizetype size)
{
    QByteArray bytes(size, Qt::Uninitialized);
    for (qsizetype i = 0; i < size; ++i)
        bytes[i] = char(i * 7 + 3);
    return bytes;
}
} // namespace

void TestSharedSlice::slices_data()
{
    QTest::addColumn<qsizetype>("wholeSize");
    QTest::addColumn<qsizetype>("from");
    QTest::addColumn<qsizetype>("size");

    QTest::newRow("empty of empty") << qsizetype(0) << qsizetype(0) << qsizetype(0);
    QTest::newRow("empty in the middle") << qsizetype(10) << qsizetype(5) << qsizetype(0);
    QTest::newRow("all") << qsizetype(4096) << qsizetype(0) << qsizetype(4096);
    QTest::newRow("one byte, odd offset") << qsizetype(9) << qsizetype(3) << qsizetype(1);
    QTest::newRow("odd start, odd length") << qsizetype(10001) << qsizetype(7) << qsizetype(9993);
    QTest::newRow("to the end") << qsizetype(5000) << qsizetype(13) << qsizetype(4987);
    QTest::newRow("head and tail left out") << qsizetype(102400 + 300) << qsizetype(211) << qsizetype(102400);
}

void TestSharedSlice::slices()
{
    QFETCH(qsizetype, wholeSize);
    QFETCH(qsizetype, from);
    QFETCH(qsizetype, size);

    auto whole = std::make_unique<QByteArray>(pattern(wholeSize));
    const QByteArray expected = whole->mid(from, size);
    QByteArray slice = sharedSlice(*whole, from, size);
    QCOMPARE(slice.size(), size);
    QCOMPARE(slice, expected);
    if (size > 0) // no copy: the slice points into the whole
        QCOMPARE(static_cast<const void *>(slice.constData()), static_cast<const void *>(whole->constData() + from));

    // Writing to either detaches it; the other keeps its bytes.
    if (size > 0) {
        QByteArray other = sharedSlice(*whole, from, size);
        other[0] = char(~other.at(0));
        QCOMPARE(slice, expected);
        QCOMPARE(*whole, pattern(wholeSize));
        (*whole)[from] = char(~whole->at(from));
        QCOMPARE(slice, expected);
        (*whole)[from] = char(~whole->at(from));
    }

    // The slice outlives the whole, and grows past its end without touching freed memory.
    whole.reset();
    QCOMPARE(slice, expected);
    slice.append("more");
    QCOMPARE(slice, expected + "more");
    slice.prepend('<');
    QCOMPARE(slice, '<' + expected + "more");
}

void TestSharedSlice::rawDataIsCopied()
{
    // Nothing keeps raw data alive, so a slice of it must not point into it.
    QByteArray storage = pattern(64);
    const QByteArray raw = QByteArray::fromRawData(storage.constData(), storage.size());
    const QByteArray slice = sharedSlice(raw, 5, 11);
    QCOMPARE(slice, storage.mid(5, 11));
    QVERIFY(slice.constData() < storage.constData() || slice.constData() >= storage.constData() + storage.size());
    storage.fill('x');
    QCOMPARE(slice, pattern(64).mid(5, 11));
}

QTEST_GUILESS_MAIN(TestSharedSlice)
#include "TestSharedSlice.moc"
