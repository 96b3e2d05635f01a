#include "protocol/MessageType.h"

#include "protocol/Messages.h"

#include <type_traits>

namespace keyhole::protocol {

// messageType() maps the variant index to the id, so the variant must list the types in id order.
#define KEYHOLE_CHECK_ORDER(id, name)                                                                                  \
    static_assert(std::is_same_v<std::variant_alternative_t<(id)-1, Message>, name>,                                   \
                  "Message alternatives must follow the MessageType ids");
KEYHOLE_MESSAGE_TYPES(KEYHOLE_CHECK_ORDER)
#undef KEYHOLE_CHECK_ORDER

const char *messageTypeName(MessageType type)
{
    switch (type) {
#define KEYHOLE_NAME_CASE(id, name)                                                                                    \
    case MessageType::name:                                                                                            \
        return #name;
        KEYHOLE_MESSAGE_TYPES(KEYHOLE_NAME_CASE)
#undef KEYHOLE_NAME_CASE
    }
    return "unknown";
}

MessageType messageType(const Message &message)
{
    return static_cast<MessageType>(static_cast<int>(message.index()) + 1);
}

} // namespace keyhole::protocol
