#include "util/TerminationWatcher.h"

#include <QCoreApplication>
#include <QSignalSpy>
#include <QtTest>

#include <csignal>

using keyhole::util::TerminationWatcher;

class TestTerminationWatcher : public QObject
{
    Q_OBJECT

private Q_SLOTS:
    void signalBecomesQtSignal_data();
    void signalBecomesQtSignal();
    void repeatedRequestsAreEmittedAgain();
    void sigpipeIgnored();
    void sighupAsksForReload();
};

void TestTerminationWatcher::signalBecomesQtSignal_data()
{
#ifdef Q_OS_WIN
    QSKIP("POSIX signals only");
#endif
    QTest::addColumn<int>("signo");
    QTest::addColumn<QString>("name");
    QTest::newRow("SIGINT") << int(SIGINT) << QStringLiteral("SIGINT");
    QTest::newRow("SIGTERM") << int(SIGTERM) << QStringLiteral("SIGTERM");
}

void TestTerminationWatcher::signalBecomesQtSignal()
{
    QFETCH(int, signo);
    QFETCH(QString, name);
    TerminationWatcher watcher;
    QSignalSpy spy(&watcher, &TerminationWatcher::terminationRequested);
    // Without the watcher this would end the test process.
    std::raise(signo);
    QTRY_COMPARE(spy.count(), 1);
    QCOMPARE(spy.at(0).at(0).toString(), name);
}

void TestTerminationWatcher::repeatedRequestsAreEmittedAgain()
{
#ifdef Q_OS_WIN
    QSKIP("POSIX signals only");
#else
    TerminationWatcher watcher;
    QSignalSpy spy(&watcher, &TerminationWatcher::terminationRequested);
    std::raise(SIGTERM);
    QTRY_COMPARE(spy.count(), 1);
    std::raise(SIGINT);
    QTRY_COMPARE(spy.count(), 2);
    QCOMPARE(spy.at(1).at(0).toString(), QStringLiteral("SIGINT"));
#endif
}

void TestTerminationWatcher::sigpipeIgnored()
{
#ifdef Q_OS_WIN
    QSKIP("POSIX signals only");
#else
    TerminationWatcher watcher;
    struct sigaction current = {};
    QCOMPARE(::sigaction(SIGPIPE, nullptr, &current), 0);
    QVERIFY(current.sa_handler == SIG_IGN);
#endif
}

void TestTerminationWatcher::sighupAsksForReload()
{
#ifdef Q_OS_WIN
    QSKIP("POSIX signals only");
#else
    TerminationWatcher watcher;
    QSignalSpy reloads(&watcher, &TerminationWatcher::reloadRequested);
    QSignalSpy terminations(&watcher, &TerminationWatcher::terminationRequested);
    watcher.watchReload();
    // Without watchReload() this would end the test process.
    std::raise(SIGHUP);
    QTRY_COMPARE(reloads.count(), 1);
    std::raise(SIGHUP);
    QTRY_COMPARE(reloads.count(), 2);
    QCOMPARE(terminations.count(), 0);
#endif
}

QTEST_GUILESS_MAIN(TestTerminationWatcher)
#include "TestTerminationWatcher.moc"
