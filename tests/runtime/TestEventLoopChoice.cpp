#include "util/EventLoopChoice.h"

#include <QtTest>

#include <vector>

using keyhole::util::EventLoopChoice;
using keyhole::util::EventLoopKind;

Q_DECLARE_METATYPE(EventLoopKind)

// --event-loop is read from argv before the application object exists, so it is parsed by hand:
// both spellings, a missing or unknown value, the environment variable and which one wins.
class TestEventLoopChoice : public QObject
{
    Q_OBJECT

private slots:
    void choose_data();
    void choose();
};

void TestEventLoopChoice::choose_data()
{
    QTest::addColumn<QStringList>("arguments");
    QTest::addColumn<QByteArray>("environment"); // KEYHOLE_EVENT_LOOP; empty: unset
    QTest::addColumn<EventLoopKind>("expected");
    QTest::addColumn<bool>("error");

    const EventLoopKind fallback = EventLoopKind::Epoll; // Linux: these tests run there only
    QTest::newRow("default") << QStringList{} << QByteArray() << fallback << false;
    QTest::newRow("qt") << QStringList{"--event-loop", "qt"} << QByteArray() << EventLoopKind::Qt << false;
    QTest::newRow("epoll") << QStringList{"--event-loop", "epoll"} << QByteArray() << EventLoopKind::Epoll << false;
    QTest::newRow("equals") << QStringList{"--port", "3000", "--event-loop=qt"} << QByteArray() << EventLoopKind::Qt
                            << false;
    QTest::newRow("missing value") << QStringList{"--event-loop"} << QByteArray() << fallback << true;
    QTest::newRow("unknown value") << QStringList{"--event-loop", "libuv"} << QByteArray() << fallback << true;
    QTest::newRow("empty equals") << QStringList{"--event-loop="} << QByteArray() << fallback << true;
    QTest::newRow("environment") << QStringList{} << QByteArray("qt") << EventLoopKind::Qt << false;
    QTest::newRow("bad environment") << QStringList{} << QByteArray("select") << fallback << true;
    QTest::newRow("flag beats environment")
        << QStringList{"--event-loop", "epoll"} << QByteArray("qt") << EventLoopKind::Epoll << false;
    QTest::newRow("after --") << QStringList{"--", "--event-loop", "qt"} << QByteArray() << fallback << false;
    QTest::newRow("other option's value")
        << QStringList{"--name", "--event-loopy"} << QByteArray() << fallback << false;
}

void TestEventLoopChoice::choose()
{
    QFETCH(QStringList, arguments);
    QFETCH(QByteArray, environment);
    QFETCH(EventLoopKind, expected);
    QFETCH(bool, error);

    if (environment.isEmpty())
        qunsetenv("KEYHOLE_EVENT_LOOP");
    else
        qputenv("KEYHOLE_EVENT_LOOP", environment);
    std::vector<QByteArray> storage{QByteArray("program")};
    for (const QString &argument : arguments)
        storage.push_back(argument.toLocal8Bit());
    std::vector<const char *> argv;
    for (const QByteArray &argument : storage)
        argv.push_back(argument.constData());
    argv.push_back(nullptr);

    const EventLoopChoice choice = keyhole::util::chooseEventLoop(int(storage.size()), argv.data());
    qunsetenv("KEYHOLE_EVENT_LOOP");
    QCOMPARE(choice.kind, expected);
    QCOMPARE(!choice.error.isEmpty(), error);
}

QTEST_GUILESS_MAIN(TestEventLoopChoice)
#include "TestEventLoopChoice.moc"
