#pragma once

#include "http/HttpParser.h"

#include <QByteArray>
#include <QTcpSocket>

// A visitor that writes raw request bytes and reads one parsed response at a time.
class RawVisitor
{
public:
    explicit RawVisitor(quint16 port);

    void write(const QByteArray &bytes);
    // Waits for the next complete response (false on timeout or close before one arrived).
    bool readResponse(int timeoutMs = 10000, bool headRequest = false);

    keyhole::http::ResponseHead head;
    QByteArray body;
    QTcpSocket socket;

    QByteArray header(const char *name) const;

private:
    QByteArray m_buffer;
};

// A GET/POST for `host` with the given extra header lines and body.
QByteArray rawRequest(const QByteArray &method, const QByteArray &host, const QByteArray &target,
                      const QByteArray &body = {}, const QByteArray &extraHeaders = {});
