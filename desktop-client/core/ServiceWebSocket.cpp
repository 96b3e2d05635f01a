#include "ServiceWebSocket.h"

#include "http/HeaderRules.h"
#include "websocket/Handshake.h"
#include "websocket/WebSocketChannel.h"

#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

#include <utility>

namespace keyhole::client {

namespace {

http::HttpParser::Limits handshakeLimits()
{
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = 64 * 1024;
    limits.maxHeaders = 256;
    limits.maxBodyBytes = 64 * 1024; // interim answers have none; a refusal's body is not read
    return limits;
}

} // namespace

ServiceWebSocket::ServiceWebSocket(QObject *parent)
    : QObject(parent)
{
}

ServiceWebSocket::~ServiceWebSocket()
{
    abort();
}

void ServiceWebSocket::open(const Request &request)
{
    if (m_state != State::Idle)
        return;
    m_request = request;
    m_state = State::Connecting;
    const bool tls = request.target.scheme().compare(QLatin1String("https"), Qt::CaseInsensitive) == 0;
    const QString host = request.target.host();
    const auto port = static_cast<quint16>(request.target.port(tls ? 443 : 80));
    if (tls) {
        auto *ssl = new QSslSocket(this);
        if (!request.extraCaCertificates.isEmpty()) {
            QSslConfiguration config = ssl->sslConfiguration();
            config.addCaCertificates(request.extraCaCertificates);
            ssl->setSslConfiguration(config);
        }
        connect(ssl, &QSslSocket::encrypted, this, &ServiceWebSocket::onTransportReady);
        m_socket = ssl;
    } else {
        m_socket = new QTcpSocket(this);
        connect(m_socket, &QTcpSocket::connected, this, &ServiceWebSocket::onTransportReady);
    }
    m_socket->setSocketOption(QAbstractSocket::LowDelayOption, 1);
    connect(m_socket, &QTcpSocket::readyRead, this, &ServiceWebSocket::onReadyRead);
    connect(m_socket, &QTcpSocket::errorOccurred, this, &ServiceWebSocket::onSocketError);
    connect(m_socket, &QTcpSocket::disconnected, this, &ServiceWebSocket::onSocketDisconnected);
    if (tls)
        static_cast<QSslSocket *>(m_socket)->connectToHostEncrypted(host, port);
    else
        m_socket->connectToHost(host, port);
}

void ServiceWebSocket::onTransportReady()
{
    if (m_state != State::Connecting)
        return;
    m_state = State::Handshake;
    m_key = websocket::handshake::generateKey();
    m_parser = std::make_unique<http::HttpParser>(http::HttpParser::Mode::Response, handshakeLimits());

    QByteArray head;
    head.reserve(512);
    head += "GET " + (m_request.resource.isEmpty() ? QByteArrayLiteral("/") : m_request.resource) + " HTTP/1.1\r\n";
    head += "Host: " + m_request.host + "\r\n";
    head += "Upgrade: websocket\r\nConnection: Upgrade\r\n";
    head += "Sec-WebSocket-Key: " + m_key + "\r\n";
    head += "Sec-WebSocket-Version: 13\r\n";
    if (!m_request.subprotocols.isEmpty())
        head += "Sec-WebSocket-Protocol: " + m_request.subprotocols.join(QStringLiteral(", ")).toLatin1() + "\r\n";
    for (const auto &header : std::as_const(m_request.headers))
        head += header.first + ": " + header.second + "\r\n";
    head += "\r\n";
    m_socket->write(head);
}

void ServiceWebSocket::onReadyRead()
{
    if (m_state == State::Handshake)
        readHandshake();
    else
        m_socket->readAll(); // nothing we asked for
}

void ServiceWebSocket::readHandshake()
{
    m_handshakeBuffer += m_socket->readAll();
    for (;;) {
        qsizetype consumed = 0;
        const auto status = m_parser->feed(m_handshakeBuffer.constData(), m_handshakeBuffer.size(), &consumed);
        m_handshakeBuffer.remove(0, qBound<qsizetype>(0, consumed, m_handshakeBuffer.size()));
        switch (status) {
        case http::HttpParser::Status::NeedMore:
            return;
        case http::HttpParser::Status::HeadComplete: {
            const http::ResponseHead &head = m_parser->responseHead();
            if (head.status == 101) {
                finishOpen();
                return;
            }
            if (head.status >= 100 && head.status < 200)
                continue; // an interim answer (100, 103...): the real one follows
            failHandshake(head.status, QStringLiteral("the service answered HTTP %1").arg(head.status));
            return;
        }
        case http::HttpParser::Status::MessageComplete:
            m_parser->reset(); // the end of an interim answer
            continue;
        case http::HttpParser::Status::Error:
            failHandshake(0, QStringLiteral("invalid handshake answer: %1").arg(m_parser->errorText()));
            return;
        }
    }
}

void ServiceWebSocket::finishOpen()
{
    const http::ResponseHead &head = m_parser->responseHead();
    http::ResponseHead check = head;
    // The subprotocol is checked here against what we offered; the shared check knows only of none.
    const QByteArray chosen = http::headerValue(head.headers, "Sec-WebSocket-Protocol").trimmed();
    http::removeHeader(check.headers, "Sec-WebSocket-Protocol");
    QString problem = websocket::handshake::checkServerResponse(check, m_key);
    if (problem.isEmpty() && !chosen.isEmpty() && !m_request.subprotocols.contains(QString::fromLatin1(chosen)))
        problem = QStringLiteral("the service chose a subprotocol that was not offered");
    if (!problem.isEmpty()) {
        failHandshake(0, problem);
        return;
    }
    m_subprotocol = chosen;
    m_state = State::Open;
    m_parser.reset();

    using websocket::WebSocketChannel;
    // The channel takes the socket and the frames that came with the handshake's answer.
    m_socket->disconnect(this);
    m_channel = new WebSocketChannel(m_socket, websocket::Role::Client, std::exchange(m_handshakeBuffer, {}), this);
    m_channel->setMaxIncomingMessageBytes(qMax<qint64>(1, m_request.maxMessageBytes));
    // What waits for the service is bounded by the owner in bytes (bytesToWrite()), with a close
    // code the visitor understands (1013), rather than by a silent cut after a while.
    m_channel->setSendTimeout(0);
    connect(m_channel, &WebSocketChannel::binaryMessageReceived, this,
            [this](const QByteArray &payload) { Q_EMIT messageReceived(payload, true); });
    // The decoder checked the UTF-8; the visitor gets the same bytes.
    connect(m_channel, &WebSocketChannel::textMessageReceived, this,
            [this](const QString &text) { Q_EMIT messageReceived(text.toUtf8(), false); });
    // Only while open, so never after a Close from either end: the connection broke.
    connect(m_channel, &WebSocketChannel::errorOccurred, this, [this](QAbstractSocket::SocketError error) {
        m_socketError = error;
        if (error != QAbstractSocket::RemoteHostClosedError)
            m_endedByError = true;
    });
    connect(m_channel, &WebSocketChannel::disconnected, this, [this] {
        m_state = State::Closed;
        Q_EMIT disconnected();
    });
    Q_EMIT connected();
}

bool ServiceWebSocket::isOpen() const
{
    return m_channel && m_channel->isOpen();
}

bool ServiceWebSocket::sendMessage(const QByteArray &payload, bool binary)
{
    if (!isOpen())
        return false;
    return binary ? m_channel->sendBinaryMessage(payload) : m_channel->sendTextMessage(payload);
}

void ServiceWebSocket::close(quint16 code, const QString &reason)
{
    if (m_channel)
        m_channel->close(code, reason);
    else if (m_state == State::Connecting || m_state == State::Handshake)
        abort();
}

void ServiceWebSocket::abort()
{
    m_state = State::Closed;
    if (m_channel) {
        m_channel->disconnect(this);
        m_channel->abort();
    } else if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
}

qint64 ServiceWebSocket::bytesToWrite() const
{
    if (!m_socket)
        return 0;
    qint64 pending = m_socket->bytesToWrite();
    if (const auto *ssl = qobject_cast<const QSslSocket *>(m_socket))
        pending += ssl->encryptedBytesToWrite();
    return pending;
}

QString ServiceWebSocket::errorString() const
{
    if (m_channel && !m_channel->errorString().isEmpty())
        return m_channel->errorString();
    return m_errorString;
}

quint16 ServiceWebSocket::closeCode() const
{
    if (!m_channel)
        return websocket::CloseAbnormal;
    return m_channel->violationCode() != 0 ? m_channel->violationCode() : m_channel->closeCode();
}

QString ServiceWebSocket::closeReason() const
{
    if (!m_channel)
        return {};
    return m_channel->violationCode() != 0 ? m_channel->errorString() : m_channel->closeReason();
}

void ServiceWebSocket::failHandshake(int status, const QString &why)
{
    if (m_state != State::Connecting && m_state != State::Handshake)
        return;
    m_refusedStatus = status;
    if (m_errorString.isEmpty())
        m_errorString = why;
    abort();
    Q_EMIT refused();
}

void ServiceWebSocket::onSocketError(QAbstractSocket::SocketError error)
{
    // Until the channel has the socket; it reports what happens afterwards.
    if (m_state != State::Connecting && m_state != State::Handshake)
        return;
    m_socketError = error;
    m_errorString = m_socket->errorString();
    failHandshake(0, m_errorString);
}

void ServiceWebSocket::onSocketDisconnected()
{
    if (m_state == State::Connecting || m_state == State::Handshake)
        failHandshake(0, QStringLiteral("the connection closed during the handshake"));
}

} // namespace keyhole::client
