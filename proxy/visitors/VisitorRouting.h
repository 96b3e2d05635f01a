#pragma once

#include "visitors/HostRouter.h"
#include "http/HttpMessageHead.h"

#include <QString>

namespace keyhole::proxy {

struct VisitorOptions;

// What a visitor's request is, decided from its head alone: the control channel, a WebSocket for a
// tunnel, a request whose body is read next, or one refused at once (the connection then closes).
struct VisitorRouting {
    enum class Action { ReadBody, Upgrade, ControlChannel, Refuse };

    Action action = Action::Refuse;
    bool routed = false; // false: refused before its Host was looked at
    HostRouter::Route route;
    int status = 0; // Refuse: the answer's status and text
    QString message;

    static VisitorRouting decide(const http::RequestHead &head, bool http10, const HostRouter &router,
                                 const VisitorOptions &options);
};

} // namespace keyhole::proxy
