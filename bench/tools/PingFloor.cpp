#include "PingFloor.h"

#include <arpa/inet.h>
#include <cerrno>
#include <chrono>
#include <csignal>
#include <cstring>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace {

using Clock = std::chrono::steady_clock;

double processCpuSeconds()
{
    rusage usage{};
    getrusage(RUSAGE_SELF, &usage);
    const auto seconds = [](const timeval &t) { return double(t.tv_sec) + double(t.tv_usec) / 1e6; };
    return seconds(usage.ru_utime) + seconds(usage.ru_stime);
}

std::string systemError(const char *what)
{
    return std::string(what) + ": " + std::strerror(errno);
}

void setNoDelay(int fd)
{
    const int on = 1; // as the proxy's and the client's sockets: a ping goes out at once
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &on, sizeof on);
}

bool watch(int epoll, int fd)
{
    epoll_event event{};
    event.events = EPOLLIN;
    event.data.fd = fd;
    return epoll_ctl(epoll, EPOLL_CTL_ADD, fd, &event) == 0;
}

// Room for every connection in this process (each side holds one end of each).
bool raiseDescriptorLimit(int connections)
{
    rlimit limit{};
    if (getrlimit(RLIMIT_NOFILE, &limit) != 0)
        return false;
    limit.rlim_cur = limit.rlim_max;
    setrlimit(RLIMIT_NOFILE, &limit);
    return rlim_t(connections) + 16 <= limit.rlim_cur;
}

} // namespace

PingFloor::PingFloor(const Options &options)
    : m_options(options)
{
}

PingFloor::Result PingFloor::run()
{
    Result result;
    if (!raiseDescriptorLimit(m_options.connections)) {
        result.error = "the descriptor limit is below " + std::to_string(m_options.connections + 16);
        return result;
    }
    const int listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    socklen_t length = sizeof address;
    if (listener < 0 || bind(listener, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0
        || listen(listener, SOMAXCONN) != 0
        || getsockname(listener, reinterpret_cast<sockaddr *>(&address), &length) != 0) {
        result.error = systemError("listen on loopback");
        return result;
    }
    // accept() gives up when the peer stops connecting (it failed, or was killed) instead of waiting
    // for ever.
    const timeval acceptTimeout{10, 0};
    setsockopt(listener, SOL_SOCKET, SO_RCVTIMEO, &acceptTimeout, sizeof acceptTimeout);
    const pid_t peer = fork();
    if (peer < 0) {
        result.error = systemError("fork");
        return result;
    }
    if (peer == 0) {
        close(listener);
        answer(ntohs(address.sin_port));
    }
    result = ping(listener);
    close(listener);
    kill(peer, SIGTERM);
    waitpid(peer, nullptr, 0);
    return result;
}

void PingFloor::answer(int port) const
{
    prctl(PR_SET_PDEATHSIG, SIGTERM); // never outlive the measurement
    sockaddr_in address{};
    address.sin_family = AF_INET;
    address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    address.sin_port = htons(std::uint16_t(port));
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    for (int i = 0; i < m_options.connections; ++i) {
        const int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
        if (fd < 0 || connect(fd, reinterpret_cast<sockaddr *>(&address), sizeof address) != 0 || !watch(epoll, fd))
            _exit(1);
        setNoDelay(fd);
    }
    std::vector<epoll_event> ready(512);
    char buffer[4096];
    for (;;) {
        const int count = epoll_wait(epoll, ready.data(), int(ready.size()), -1);
        for (int i = 0; i < count; ++i) {
            const int fd = ready[size_t(i)].data.fd;
            const ssize_t got = read(fd, buffer, sizeof buffer);
            if (got <= 0)
                _exit(0); // the pinger is done
            if (write(fd, buffer, size_t(got)) != got)
                _exit(1);
        }
    }
}

PingFloor::Result PingFloor::ping(int listener)
{
    Result result;
    std::vector<int> connections;
    connections.reserve(size_t(m_options.connections));
    const int epoll = epoll_create1(EPOLL_CLOEXEC);
    while (int(connections.size()) < m_options.connections) {
        const int fd = accept4(listener, nullptr, nullptr, SOCK_CLOEXEC);
        if (fd < 0 || !watch(epoll, fd)) {
            result.error = systemError("accept (the answering process stopped connecting)");
            break;
        }
        setNoDelay(fd);
        connections.push_back(fd);
    }
    if (result.error.empty()) {
        const std::vector<char> payload(size_t(m_options.payloadBytes), '\x89');
        std::vector<epoll_event> ready(512);
        char buffer[4096];
        // Evenly spread: ping k is due at k * step; each wake-up sends every ping due by then.
        const double stepSeconds = m_options.meanPeriodMs / 1000.0 / m_options.connections;
        const auto start = Clock::now();
        const double cpuAtStart = processCpuSeconds();
        double elapsed = 0;
        while (elapsed < m_options.measureSeconds) {
            const auto due = std::int64_t(elapsed / stepSeconds);
            for (; result.pings < due; ++result.pings) {
                const int fd = connections[size_t(result.pings % m_options.connections)];
                if (send(fd, payload.data(), payload.size(), MSG_NOSIGNAL) != ssize_t(payload.size())) {
                    result.error = systemError("send");
                    break;
                }
            }
            if (!result.error.empty())
                break;
            const int untilTickMs = m_options.tickMs - int(std::int64_t(elapsed * 1000) % m_options.tickMs);
            const int count = epoll_wait(epoll, ready.data(), int(ready.size()), untilTickMs);
            for (int i = 0; i < count; ++i) {
                const ssize_t got = read(ready[size_t(i)].data.fd, buffer, sizeof buffer);
                if (got > 0)
                    result.answers += got / m_options.payloadBytes;
            }
            elapsed = std::chrono::duration<double>(Clock::now() - start).count();
        }
        result.cpuSeconds = processCpuSeconds() - cpuAtStart;
        result.wallSeconds = elapsed;
    }
    for (int fd : connections)
        close(fd);
    close(epoll);
    return result;
}
