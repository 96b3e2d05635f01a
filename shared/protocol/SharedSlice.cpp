#include "protocol/SharedSlice.h"

namespace keyhole::protocol {

QByteArray sharedSlice(const QByteArray &whole, qsizetype from, qsizetype size)
{
    Q_ASSERT(from >= 0 && size >= 0 && from + size <= whole.size());
    if (size == 0)
        return QByteArray();
    QByteArray owner = whole; // one more reference to the allocation, none to raw data
    QByteArray::DataPointer data = owner.data_ptr();
    if (!data.d_ptr())
        return QByteArray(whole.constData() + from, size);
    // A QByteArray is a block, a pointer and a size, and the pointer need not be the block's start
    // (Qt moves it itself when bytes are removed from the front). A later change to the slice
    // detaches it while the block is shared, and only reuses the space past it once the slice holds
    // the last reference.
    data.ptr += from;
    data.size = size;
    return QByteArray(std::move(data));
}

} // namespace keyhole::protocol
