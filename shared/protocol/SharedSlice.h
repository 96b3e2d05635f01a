#pragma once

#include <QByteArray>

namespace keyhole::protocol {

// `size` bytes of `whole` from `from` as a QByteArray that shares whole's allocation instead of
// copying it: a body decoded out of a frame costs no copy and no allocation. Like any implicitly
// shared QByteArray it detaches (copies) before it is changed; unlike most, it is not followed by
// a '\0' (as with QByteArray::fromRawData()). It keeps all of `whole` allocated while it lives, so
// use it for parts that are most of the whole. A `whole` made by fromRawData() is copied from,
// since nothing would keep its bytes alive. The range must lie within whole.
QByteArray sharedSlice(const QByteArray &whole, qsizetype from, qsizetype size);

// An allocation this small may be kept alive whole by a slice of any size: it costs about what
// copying the parts out of it would, without an allocation per part.
constexpr qsizetype kSmallSliceOwnerBytes = 16 * 1024;

} // namespace keyhole::protocol
