#pragma once

#include <QByteArray>
#include <QList>
#include <QPair>

namespace keyhole::protocol {

// HTTP headers as they came: an ordered list of name/value pairs, so repeated headers
// (Set-Cookie) and their order survive every hop. Names keep the case they arrived in.
using Header = QPair<QByteArray, QByteArray>;
using HeaderList = QList<Header>;

} // namespace keyhole::protocol
