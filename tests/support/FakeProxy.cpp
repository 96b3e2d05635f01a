#include "FakeProxy.h"

#include "protocol/Codec.h"

#include <QTest>

using namespace keyhole;

FakeProxy::FakeProxy(RegistrationScript script, QObject *parent)
    : QObject(parent)
    , m_script(std::move(script))
    , m_server(QStringLiteral("fake-proxy"), QWebSocketServer::NonSecureMode)
{
    QVERIFY(m_server.listen(QHostAddress::LocalHost, 0));
    connect(&m_server, &QWebSocketServer::newConnection, this, [this] {
        while (QWebSocket *socket = m_server.nextPendingConnection()) {
            ++connections;
            paths.append(socket->requestUrl().path());
            current = socket;
            connect(socket, &QWebSocket::binaryMessageReceived, this,
                    [this, socket](const QByteArray &frame) { onFrame(socket, frame); });
            connect(socket, &QWebSocket::disconnected, this, [this, socket] {
                ++disconnects;
                if (current == socket)
                    current = nullptr;
                socket->deleteLater();
            });
        }
    });
}

void FakeProxy::onFrame(QWebSocket *socket, const QByteArray &frame)
{
    const protocol::DecodeResult result = protocol::Codec::decode(frame);
    QVERIFY2(result, qPrintable(result.error));
    received.append(*result.message);
    if (!std::holds_alternative<protocol::RegistrationRequest>(*result.message))
        return;
    if (!rawRegistrationReply.isEmpty()) {
        ++registrations;
        socket->sendBinaryMessage(rawRegistrationReply);
        socket->close();
        return;
    }
    if (!m_script)
        return;
    const protocol::RegistrationResponse response = m_script(registrations++);
    socket->sendBinaryMessage(protocol::Codec::encode(response));
    if (!response.accepted)
        socket->close();
}

void FakeProxy::send(const protocol::Message &message)
{
    QVERIFY(current);
    current->sendBinaryMessage(protocol::Codec::encode(message));
}

void FakeProxy::sendRaw(const QByteArray &frame)
{
    current->sendBinaryMessage(frame);
}

void FakeProxy::accept()
{
    protocol::RegistrationResponse response;
    response.accepted = true;
    response.label = QString(); // the real proxy names the label; the client only compares it
    response.hostname = QStringLiteral("label.tunnel.test");
    response.publicUrl = QStringLiteral("http://label.tunnel.test");
    response.maxRequestBodyBytes = 1000;
    response.maxResponseBodyBytes = 1000;
    response.requestTimeoutMs = 30000;
    send(response);
}
