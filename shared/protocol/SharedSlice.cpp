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
    // Qt's own slices work the same way (a pointer and a size into a shared block); a later append
    // to the slice detaches it while the block is shared, and only reuses the space past it once
    // the slice holds the last reference.
    data.ptr += from;
    data.size = size;
    return QByteArray(std::move(data));
}

} // namespace keyhole::protocol
