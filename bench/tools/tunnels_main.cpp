// keyhole-bench-tunnels: hold N registered, idle tunnels on a proxy (bench/run.sh, idle cost).
//   keyhole-bench-tunnels --proxy http://localhost:<port> --count N --keys FILE [--concurrency C]
//                         [--event-loop epoll|qt]
// Prints "registered <n> refused <m> in <s> s" on stdout once every tunnel has settled, then keeps
// the tunnels (answering Pings) until killed. FILE caches PKCS#8 keys, generated on first use.
#include "TunnelFleet.h"
#include "util/EventLoopChoice.h"

#include <QCommandLineParser>
#include <QCoreApplication>
#include <QElapsedTimer>
#include <QFile>
#include <QTimer>

#include <cstdio>

using keyhole::crypto::KeyPair;

namespace {

std::vector<KeyPair> loadOrCreateKeys(const QString &path, int count)
{
    std::vector<KeyPair> keys;
    keys.reserve(size_t(count));
    QFile file(path);
    if (file.open(QIODevice::ReadOnly)) {
        const QByteArray endMarker = "-----END PRIVATE KEY-----";
        const QByteArray all = file.readAll();
        qsizetype from = 0;
        while (int(keys.size()) < count) {
            const qsizetype end = all.indexOf(endMarker, from);
            if (end < 0)
                break;
            auto key = KeyPair::fromPrivatePem(all.mid(from, end + endMarker.size() - from));
            from = end + endMarker.size();
            if (key)
                keys.push_back(std::move(*key));
        }
        file.close();
    }
    if (int(keys.size()) >= count)
        return keys;
    QFile out(path);
    if (!out.open(QIODevice::Append)) {
        std::fprintf(stderr, "cannot write the key cache %s\n", qPrintable(path));
    }
    out.setPermissions(QFileDevice::ReadOwner | QFileDevice::WriteOwner);
    while (int(keys.size()) < count) {
        auto key = KeyPair::generate();
        if (!key)
            break;
        if (out.isOpen())
            out.write(key->privatePem());
        keys.push_back(std::move(*key));
    }
    return keys;
}

} // namespace

int main(int argc, char *argv[])
{
    // Thousands of sockets here too: on Qt's poll() loop the load tool would spend more CPU per pass
    // than the proxy it measures.
    const keyhole::util::EventLoopChoice eventLoop = keyhole::util::chooseEventLoop(argc, argv);
    if (!eventLoop.error.isEmpty()) {
        std::fprintf(stderr, "keyhole-bench-tunnels: %s\n", qPrintable(eventLoop.error));
        return 2;
    }
    keyhole::util::installEventLoop(eventLoop.kind);
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("keyhole-bench-tunnels"));
    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Holds many registered idle tunnels on a keyhole-proxy"));
    parser.addHelpOption();
    parser.addOptions({
        {QStringLiteral("proxy"), QStringLiteral("The proxy's public URL (the audience)."), QStringLiteral("URL"),
         QStringLiteral("http://localhost:8080")},
        {QStringLiteral("count"), QStringLiteral("Tunnels to register."), QStringLiteral("N"), QStringLiteral("1000")},
        {QStringLiteral("keys"), QStringLiteral("Key cache file (PKCS#8 PEMs, one after the other)."),
         QStringLiteral("FILE"), QStringLiteral("bench-keys.pem")},
        {QStringLiteral("concurrency"), QStringLiteral("Registrations in flight at once."), QStringLiteral("N"),
         QStringLiteral("50")},
        {QStringLiteral("event-loop"), keyhole::util::eventLoopOptionDescription(), QStringLiteral("LOOP")},
    });
    parser.process(app);

    const int count = std::max(0, parser.value(QStringLiteral("count")).toInt());
    std::vector<KeyPair> keys = loadOrCreateKeys(parser.value(QStringLiteral("keys")), count);
    if (int(keys.size()) < count) {
        std::fprintf(stderr, "could only get %d of %d keys\n", int(keys.size()), count);
        return 1;
    }
    auto *fleet = new TunnelFleet(QUrl(parser.value(QStringLiteral("proxy"))), std::move(keys),
                                  parser.value(QStringLiteral("concurrency")).toInt(), &app);
    QElapsedTimer timer;
    timer.start();
    QObject::connect(fleet, &TunnelFleet::settled, &app, [fleet, &timer] {
        std::printf("registered %d refused %d in %.2f s\n", fleet->registered(), fleet->refused(),
                    double(timer.elapsed()) / 1000.0);
        std::fflush(stdout);
    });
    QTimer::singleShot(0, fleet, &TunnelFleet::start);
    return QCoreApplication::exec();
}
