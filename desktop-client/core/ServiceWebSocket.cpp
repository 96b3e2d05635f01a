#include "ServiceWebSocket.h"

#include "http/HeaderRules.h"
#include "websocket/Handshake.h"
#include "websocket/Masking.h"

#include <QRandomGenerator>
#include <QSslConfiguration>
#include <QSslSocket>
#include <QTcpSocket>

#include <cstring>
#include <utility>

namespace keyhole::client {

namespace {

using websocket::Opcode;

// RFC 6455 5.5.3 lets us skip pongs; we do once this much is unsent.
constexpr qint64 kMaxUnreadPongBytes = 1024 * 1024;

http::HttpParser::Limits handshakeLimits()
{
    http::HttpParser::Limits limits;
    limits.maxHeadBytes = 64 * 1024;
    limits.maxHeaders = 256;
    limits.maxBodyBytes = 64 * 1024; // interim answers have none; a refusal's body is not read
    return limits;
}

QByteArray closePayload(quint16 code, const QString &reason)
{
    if (code == 0 || code == websocket::CloseNoStatus)
        return {};
    QByteArray payload;
    payload.append(char(code >> 8)).append(char(code & 0xFF));
    QByteArray text = reason.toUtf8();
    if (text.size() > websocket::kMaxControlPayload - 2) {
        qsizetype cut = websocket::kMaxControlPayload - 2;
        while (cut > 0 && (uchar(text.at(cut)) & 0xC0) == 0x80) // not inside a UTF-8 sequence
            --cut;
        text.truncate(cut);
    }
    return payload + text;
}

} // namespace

ServiceWebSocket::ServiceWebSocket(QObject *parent)
    : QObject(parent)
{
}

ServiceWebSocket::~ServiceWebSocket()
{
    if (m_socket) {
        m_socket->disconnect(this);
        m_socket->abort();
    }
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
    else if (m_state == State::Open || m_state == State::Closing)
        readMessages();
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
    m_decoder = std::make_unique<websocket::MessageDecoder>(websocket::Role::Client,
                                                            qMax<qint64>(1, m_request.maxMessageBytes));
    // Frames that came with the handshake's answer.
    const QByteArray rest = std::exchange(m_handshakeBuffer, {});
    Q_EMIT connected();
    if (m_state == State::Open && !rest.isEmpty()) {
        m_decoder->feed(rest);
        readMessages();
    }
}

void ServiceWebSocket::readMessages()
{
    if (m_socket->bytesAvailable() > 0)
        m_decoder->feed(m_socket->readAll());
    while (m_state == State::Open || m_state == State::Closing) {
        std::optional<websocket::Message> message = m_decoder->next();
        if (!message)
            break;
        switch (message->opcode) {
        case Opcode::Text:
            if (m_state == State::Open)
                Q_EMIT messageReceived(message->text.toUtf8(), false);
            break;
        case Opcode::Binary:
            if (m_state == State::Open)
                Q_EMIT messageReceived(message->payload, true);
            break;
        case Opcode::Ping:
            // A service that pings without reading our answers must not grow our write buffer.
            if (!m_closeSent && bytesToWrite() < kMaxUnreadPongBytes)
                writeFrame(Opcode::Pong, message->payload);
            break;
        case Opcode::Pong:
        case Opcode::Continuation:
            break;
        case Opcode::Close:
            m_closeReceived = true;
            if (!m_closeSent) {
                m_closeCode = message->closeCode;
                m_closeReason = message->text;
                sendClose(message->closeCode, QString());
            }
            m_state = State::Closing;
            // Both Close frames are out: the connection has nothing more to carry.
            m_socket->disconnectFromHost();
            return;
        }
    }
    if (m_decoder->error() != 0 && !m_closeSent) {
        // The service broke the protocol or sent too much: this is how the connection ends.
        m_closeCode = m_decoder->error();
        m_closeReason = m_decoder->errorString();
        sendClose(m_closeCode, m_closeReason);
        m_state = State::Closing;
        // The decoder reads no further, so the service's Close would go unseen: end it here.
        m_socket->disconnectFromHost();
    }
}

bool ServiceWebSocket::sendMessage(const QByteArray &payload, bool binary)
{
    if (m_state != State::Open)
        return false;
    writeFrame(binary ? Opcode::Binary : Opcode::Text, payload);
    return true;
}

void ServiceWebSocket::close(quint16 code, const QString &reason)
{
    if (m_state == State::Open) {
        sendClose(code, reason);
        m_state = State::Closing;
    } else if (m_state == State::Connecting || m_state == State::Handshake) {
        abort();
    }
}

void ServiceWebSocket::abort()
{
    m_state = State::Closed;
    if (m_socket) {
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

void ServiceWebSocket::sendClose(quint16 code, const QString &reason)
{
    if (m_closeSent)
        return;
    m_closeSent = true;
    writeFrame(Opcode::Close, closePayload(code, reason));
}

void ServiceWebSocket::writeFrame(Opcode opcode, const QByteArray &payload)
{
    // A client masks every frame, with a key the service cannot predict (RFC 6455 5.3).
    websocket::MaskKey mask;
    const quint32 random = QRandomGenerator::system()->generate();
    std::memcpy(mask.data(), &random, mask.size());
    char header[websocket::kMaxFrameHeaderBytes];
    const int headerBytes = websocket::encodeFrameHeader(header, opcode, quint64(payload.size()), true, &mask);
    QByteArray frame(headerBytes + payload.size(), Qt::Uninitialized);
    std::memcpy(frame.data(), header, size_t(headerBytes));
    websocket::copyMasked(frame.data() + headerBytes, payload.constData(), payload.size(), mask, 0);
    m_socket->write(frame);
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
    if (m_state == State::Closed)
        return;
    if (m_errorString.isEmpty() || m_state == State::Connecting || m_state == State::Handshake) {
        m_socketError = error;
        m_errorString = m_socket->errorString();
    }
    if (m_state == State::Connecting || m_state == State::Handshake) {
        failHandshake(0, m_errorString);
        return;
    }
    if (error != QAbstractSocket::RemoteHostClosedError && !m_closeReceived)
        m_endedByError = true;
    // disconnected() follows (or already came) and ends it.
    if (m_socket->state() == QAbstractSocket::UnconnectedState)
        onSocketDisconnected();
}

void ServiceWebSocket::onSocketDisconnected()
{
    if (m_state == State::Closed)
        return;
    if (m_state == State::Connecting || m_state == State::Handshake) {
        failHandshake(0, QStringLiteral("the connection closed during the handshake"));
        return;
    }
    // What the socket still holds may include the service's Close.
    if (m_socket->bytesAvailable() > 0)
        readMessages();
    m_state = State::Closed;
    Q_EMIT disconnected();
}

} // namespace keyhole::client
