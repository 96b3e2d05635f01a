#include "RawVisitor.h"

#include "http/HeaderRules.h"

#include <QDeadlineTimer>
#include <QTest>

using namespace keyhole;

RawVisitor::RawVisitor(quint16 port)
{
    socket.connectToHost(QHostAddress::LocalHost, port);
    socket.waitForConnected(5000);
}

void RawVisitor::write(const QByteArray &bytes)
{
    socket.write(bytes);
    socket.flush();
}

bool RawVisitor::readResponse(int timeoutMs, bool headRequest)
{
    http::HttpParser parser(http::HttpParser::Mode::Response, {});
    parser.setMaxBodyBytes(64 << 20);
    parser.setExpectNoBody(headRequest);
    QDeadlineTimer deadline(timeoutMs);
    while (true) {
        while (!m_buffer.isEmpty()) {
            qsizetype consumed = 0;
            const auto status = parser.feed(m_buffer.constData(), m_buffer.size(), &consumed);
            m_buffer.remove(0, consumed);
            if (status == http::HttpParser::Status::MessageComplete) {
                head = parser.responseHead();
                body = parser.takeBody();
                return true;
            }
            if (status == http::HttpParser::Status::Error)
                return false;
            if (status == http::HttpParser::Status::NeedMore)
                break;
            // HeadComplete: continue with the remaining bytes (possibly none)
            if (m_buffer.isEmpty()) {
                const auto again = parser.feed(nullptr, 0, &consumed);
                if (again == http::HttpParser::Status::MessageComplete) {
                    head = parser.responseHead();
                    body = parser.takeBody();
                    return true;
                }
            }
        }
        if (deadline.hasExpired())
            return false;
        // Wait in the event loop: the proxy under test runs on this thread.
        const bool ready = QTest::qWaitFor(
            [this] { return socket.bytesAvailable() > 0 || socket.state() != QAbstractSocket::ConnectedState; },
            int(qMax<qint64>(1, deadline.remainingTime())));
        if (socket.bytesAvailable() == 0) {
            Q_UNUSED(ready)
            if (socket.state() != QAbstractSocket::ConnectedState
                && parser.finish() == http::HttpParser::Status::MessageComplete) {
                head = parser.responseHead();
                body = parser.takeBody();
                return true;
            }
            return false;
        }
        m_buffer.append(socket.readAll());
    }
}

QByteArray RawVisitor::header(const char *name) const
{
    return http::headerValue(head.headers, name);
}

QByteArray rawRequest(const QByteArray &method, const QByteArray &host, const QByteArray &target,
                      const QByteArray &body, const QByteArray &extraHeaders)
{
    QByteArray out = method + ' ' + target + " HTTP/1.1\r\nHost: " + host + "\r\n" + extraHeaders;
    if (!body.isEmpty() || method == "POST" || method == "PUT")
        out += "Content-Length: " + QByteArray::number(body.size()) + "\r\n";
    return out + "\r\n" + body;
}
