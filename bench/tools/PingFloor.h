#pragma once

#include <cstdint>
#include <string>

// The least CPU a server can spend keeping N idle connections alive on the proxy's ping schedule:
// one process holds N loopback TCP connections on a bare epoll loop and writes a small ping to each,
// the pings spread evenly over the mean ping period and sent in batches on a fixed tick (the proxy's
// coarse timers wake it on such a tick), while a second process writes every ping straight back.
// Only the pinging process's own CPU time is measured, as the proxy's is: on loopback it includes
// the kernel's delivery of each ping to the peer, and the peer's process pays for the answers' way in.
//
// No Qt, no WebSocket framing, no decoding: what is left is the system calls and the TCP stack. It is
// the yardstick for the proxy's idle CPU, as one nginx hop is for its HTTP figures. Linux only.
class PingFloor
{
public:
    struct Options {
        int connections = 1000;
        int meanPeriodMs = 12'500; // the proxy pings after --ping-interval plus up to half of it again
        int tickMs = 500;          // the step its coarse timers fire on for a 10-15 s interval
        int payloadBytes = 16;     // about a framed Ping
        double measureSeconds = 20;
    };
    struct Result {
        std::int64_t pings = 0;
        std::int64_t answers = 0;
        double cpuSeconds = 0;
        double wallSeconds = 0;
        std::string error; // set when the run could not be made
    };

    explicit PingFloor(const Options &options);
    Result run();

private:
    // The peer: connects every socket, then writes back whatever arrives until the pinger closes.
    [[noreturn]] void answer(int port) const;
    // The measured side: accepts every socket, then pings and reads answers for measureSeconds.
    Result ping(int listener);

    Options m_options;
};
