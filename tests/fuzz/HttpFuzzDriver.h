#pragma once

#include "FuzzSupport.h"

#include "http/HttpParser.h"

#include <algorithm>

namespace keyhole::fuzz {

// Drives one HttpParser over a byte stream as a connection would: in chunks, through pipelined
// messages, with the body limit raised after some heads, then finish() at "EOF". The limits are small
// so that every limit path is reachable from short inputs. Layout: [chunk][flags][stream...].
inline void fuzzHttpParser(http::HttpParser::Mode mode, const uint8_t *data, size_t size)
{
    using http::HttpParser;
    FuzzInput input(data, size);
    const qsizetype chunk = input.takeByte() % 64; // 0: everything at once
    const uint8_t flags = input.takeByte();
    const QByteArray stream = input.rest();

    HttpParser::Limits limits;
    limits.maxHeadBytes = 512;
    limits.maxHeaders = 8;
    limits.maxUrlBytes = 64;
    limits.maxBodyBytes = 256;
    HttpParser parser(mode, limits);
    if (mode == HttpParser::Mode::Response)
        parser.setExpectNoBody(flags & 1);
    qint64 bodyLimit = limits.maxBodyBytes;

    qsizetype pos = 0;
    int rounds = 0;
    for (;;) {
        KEYHOLE_FUZZ_CHECK(++rounds <= 3 * stream.size() + 16); // each call makes progress
        const qsizetype len = chunk ? std::min(chunk, stream.size() - pos) : stream.size() - pos;
        qsizetype consumed = -1;
        const HttpParser::Status status = parser.feed(stream.constData() + pos, len, &consumed);
        KEYHOLE_FUZZ_CHECK(consumed >= 0 && consumed <= len);
        pos += consumed;
        if (status == HttpParser::Status::Error) {
            KEYHOLE_FUZZ_CHECK(parser.error() != HttpParser::Error::None);
            KEYHOLE_FUZZ_CHECK(!parser.errorText().isEmpty());
            return;
        }
        KEYHOLE_FUZZ_CHECK(parser.error() == HttpParser::Error::None);
        if (status == HttpParser::Status::NeedMore) {
            KEYHOLE_FUZZ_CHECK(consumed == len);
            if (pos == stream.size())
                break;
            continue;
        }
        if (mode == HttpParser::Mode::Request) {
            const http::RequestHead &head = parser.requestHead();
            KEYHOLE_FUZZ_CHECK(head.target.size() <= limits.maxUrlBytes);
            KEYHOLE_FUZZ_CHECK(head.headers.size() <= limits.maxHeaders);
            KEYHOLE_FUZZ_CHECK(!head.method.isEmpty());
        } else {
            const http::ResponseHead &head = parser.responseHead();
            KEYHOLE_FUZZ_CHECK(head.headers.size() <= limits.maxHeaders);
            KEYHOLE_FUZZ_CHECK(head.status >= 0 && head.status <= 999);
        }
        if (status == HttpParser::Status::HeadComplete) {
            if (flags & 2) {
                bodyLimit = 1024;
                parser.setMaxBodyBytes(bodyLimit);
            }
            continue;
        }
        // MessageComplete
        KEYHOLE_FUZZ_CHECK(parser.body().size() <= bodyLimit);
        KEYHOLE_FUZZ_CHECK(!parser.inMessage());
        if (mode == HttpParser::Mode::Request
            && (parser.requestHead().upgrade || parser.requestHead().method == "CONNECT"))
            return; // the rest belongs to another protocol
        const QByteArray body = parser.takeBody();
        Q_UNUSED(body);
        if (flags & 4) // feeding on without reset() must behave as reset() + feed
            parser.reset();
        bodyLimit = limits.maxBodyBytes;
        if (pos == stream.size())
            break;
    }
    const HttpParser::Status end = parser.finish();
    KEYHOLE_FUZZ_CHECK(end != HttpParser::Status::HeadComplete);
    if (end == HttpParser::Status::MessageComplete)
        KEYHOLE_FUZZ_CHECK(parser.body().size() <= bodyLimit);
}

} // namespace keyhole::fuzz
