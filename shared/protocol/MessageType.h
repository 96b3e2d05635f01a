#pragma once

namespace keyhole::protocol {

// The one list of message types. Ids are on the wire: append only, never renumber.
#define KEYHOLE_MESSAGE_TYPES(X)                                                                                       \
    X(1, RegistrationRequest)                                                                                          \
    X(2, RegistrationResponse)                                                                                         \
    X(3, HttpRequest)                                                                                                  \
    X(4, HttpResponse)                                                                                                 \
    X(5, WsRequest)                                                                                                    \
    X(6, WsResponse)                                                                                                   \
    X(7, WsMessage)                                                                                                    \
    X(8, WsTeardown)                                                                                                   \
    X(9, Ping)                                                                                                         \
    X(10, Pong)                                                                                                        \
    X(11, Goodbye)                                                                                                     \
    X(12, HttpBody)                                                                                                    \
    X(13, HttpCredit)                                                                                                  \
    X(14, HttpCancel)

enum class MessageType : int {
#define KEYHOLE_ENUM_ENTRY(id, name) name = id,
    KEYHOLE_MESSAGE_TYPES(KEYHOLE_ENUM_ENTRY)
#undef KEYHOLE_ENUM_ENTRY
};

// "HttpRequest" for MessageType::HttpRequest; "unknown" for anything else.
const char *messageTypeName(MessageType type);

} // namespace keyhole::protocol
