#include "HttpFuzzDriver.h"

// The proxy's visitor-facing parser: anything on the internet can send these bytes.
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keyhole::fuzz::fuzzHttpParser(keyhole::http::HttpParser::Mode::Request, data, size);
    return 0;
}
