#include "HttpFuzzDriver.h"

// The client's parser for what the local service answers (a service it does not control).
extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    keyhole::fuzz::fuzzHttpParser(keyhole::http::HttpParser::Mode::Response, data, size);
    return 0;
}
