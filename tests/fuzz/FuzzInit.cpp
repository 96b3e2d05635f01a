#include "FuzzSupport.h"

#include <QLoggingCategory>

// Decoders log every refused input at warning; at thousands of inputs a second that is all the
// fuzzer would do. A crash or sanitizer report still prints.
extern "C" int LLVMFuzzerInitialize(int *, char ***)
{
    QLoggingCategory::setFilterRules(QStringLiteral("*=false"));
    return 0;
}
