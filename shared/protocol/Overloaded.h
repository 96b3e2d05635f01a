#pragma once

namespace keyhole::protocol {

// A visitor for std::visit made of one lambda per alternative. With no generic (auto) lambda in the
// set, an alternative nobody handles is a compile error: a new message type cannot be forgotten.
template <typename... Handlers> struct Overloaded : Handlers... {
    using Handlers::operator()...;
};
template <typename... Handlers> Overloaded(Handlers...) -> Overloaded<Handlers...>;

} // namespace keyhole::protocol
