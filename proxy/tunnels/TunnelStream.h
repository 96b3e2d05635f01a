#pragma once

#include <QtGlobal>

namespace keyhole::proxy {

// What a tunnel session knows of one exchange whose body is streamed (either way): enough to hold
// the client to the window, count the response limit and cut an exchange that went quiet, and
// nothing of the body itself (the session never buffers it).
struct TunnelStream {
    bool requestOpen = false;    // the visitor's body still comes (HttpBody towards the client)
    bool responseOpen = false;   // the client's body still comes (after a streamed HttpResponse)
    qint64 responseInFlight = 0; // the client's body bytes not yet credited by the visitor side
    qint64 responseBytes = 0;    // all of the response body so far, for --max-response-body
    qint64 lastMovedMs = 0;      // monotonic ms of the last body byte or credit, either way

    bool open() const { return requestOpen || responseOpen; }
};

} // namespace keyhole::proxy
