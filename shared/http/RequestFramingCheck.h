#pragma once

#include <QByteArray>
#include <QString>
#include <QtGlobal>

namespace keyhole::http {

// A second, deliberately strict reading of a request's framing, run by HttpParser over the same
// bytes it gives llhttp. llhttp (notably the loose build that distributions ship) accepts things a
// server behind us may read differently: bare LF or CR as line ends, folded header lines, NUL and
// control bytes, sloppy chunk sizes and extensions, chunk data not followed by CRLF. Here each of
// these is an error, and HttpParser also requires both readings to agree on where the head and a
// chunked body end. Pure and incremental: feed any split of the bytes, the verdict is the same.
class RequestFramingCheck
{
public:
    enum class Result { NeedMore, Done, Error };

    // Up to the blank line that ends the head (empty lines before the request line are skipped, as
    // RFC 9112 2.2 allows). On Done, `*end` is the offset in `data` just after that line.
    Result scanHead(const char *data, qsizetype len, qsizetype *end);
    // RFC 9112 7.1 chunked body: chunk-size [ chunk-ext ] CRLF data CRLF ... last-chunk
    // trailer-section CRLF. On Done, `*end` is the offset in `data` just after the final CRLF.
    Result scanChunked(const char *data, qsizetype len, qsizetype *end);

    void reset();
    QString errorText() const { return m_errorText; }

    // A chunk-size line longer than this is refused: its extensions would otherwise be unbounded.
    static constexpr qsizetype kMaxChunkLineBytes = 4096;

private:
    enum class HeadState { LineStart, InLine, CR, Done };
    enum class ChunkState {
        Size,
        Ext,
        SizeLF,
        Data,
        DataCR,
        DataLF,
        TrailerLineStart,
        TrailerName,
        TrailerValue,
        TrailerCR,
        TrailerEndLF,
        Done
    };

    Result fail(const QString &text);
    bool extensionsValid() const;

    HeadState m_head = HeadState::LineStart;
    int m_headLine = 0; // 0 while in the request line
    ChunkState m_chunk = ChunkState::Size;
    int m_sizeDigits = 0;
    qint64 m_chunkRemaining = 0;
    qsizetype m_lineBytes = 0;
    QByteArray m_ext; // the chunk-ext of the current chunk-size line, checked at its end
    QString m_errorText;
};

} // namespace keyhole::http
