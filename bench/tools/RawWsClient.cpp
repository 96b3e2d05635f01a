#include "RawWsClient.h"

#include <QCryptographicHash>
#include <QRandomGenerator>
#include <QtEndian>

namespace {

QByteArray frameHeader(int opcode, qsizetype length, const char mask[4])
{
    QByteArray header;
    header.append(char(0x80 | opcode));
    if (length < 126) {
        header.append(char(0x80 | length));
    } else if (length <= 0xFFFF) {
        header.append(char(0x80 | 126));
        header.append(char((length >> 8) & 0xFF));
        header.append(char(length & 0xFF));
    } else {
        header.append(char(0x80 | 127));
        for (int shift = 56; shift >= 0; shift -= 8)
            header.append(char((quint64(length) >> shift) & 0xFF));
    }
    header.append(mask, 4);
    return header;
}

QByteArray maskedFrame(int opcode, const QByteArray &payload)
{
    char mask[4];
    const quint32 random = QRandomGenerator::global()->generate();
    memcpy(mask, &random, 4);
    QByteArray frame = frameHeader(opcode, payload.size(), mask);
    const qsizetype offset = frame.size();
    frame.append(payload);
    for (qsizetype i = 0; i < payload.size(); ++i)
        frame[offset + i] = char(frame[offset + i] ^ mask[i % 4]);
    return frame;
}

} // namespace

RawWsClient::RawWsClient(const QElapsedTimer *clock, QObject *parent)
    : QObject(parent)
    , m_clock(clock)
{
    connect(&m_socket, &QTcpSocket::connected, this, &RawWsClient::onConnected);
    connect(&m_socket, &QTcpSocket::readyRead, this, &RawWsClient::onReadyRead);
    connect(&m_socket, &QTcpSocket::disconnected, this, &RawWsClient::onDisconnected);
    connect(&m_socket, &QTcpSocket::errorOccurred, this, [this] {
        if (!m_handshakeDone)
            fail(QStringLiteral("connect failed: %1").arg(m_socket.errorString()));
    });
}

void RawWsClient::open(const QString &address, quint16 port, const QByteArray &hostHeader, const QByteArray &path,
                       const QByteArray &payload)
{
    m_hostHeader = hostHeader;
    m_path = path;
    m_payloadSize = payload.size();
    m_frame = maskedFrame(0x2, payload);
    m_socket.connectToHost(address, port);
}

void RawWsClient::onConnected()
{
    m_socket.setSocketOption(QAbstractSocket::LowDelayOption, 1);
    quint32 nonce[4];
    QRandomGenerator::global()->fillRange(nonce);
    const QByteArray key = QByteArray(reinterpret_cast<const char *>(nonce), sizeof nonce).toBase64();
    m_socket.write("GET " + m_path + " HTTP/1.1\r\nHost: " + m_hostHeader
                   + "\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                     "Sec-WebSocket-Key: "
                   + key + "\r\n\r\n");
}

void RawWsClient::onReadyRead()
{
    m_buffer.append(m_socket.readAll());
    if (!m_handshakeDone && !readHandshake())
        return;
    readFrames();
}

bool RawWsClient::readHandshake()
{
    const qsizetype end = m_buffer.indexOf("\r\n\r\n");
    if (end < 0) {
        if (m_buffer.size() > 64 * 1024)
            fail(QStringLiteral("upgrade refused: oversized handshake response"));
        return false;
    }
    const QByteArray statusLine = m_buffer.left(m_buffer.indexOf("\r\n"));
    if (!statusLine.startsWith("HTTP/1.1 101")) {
        fail(QStringLiteral("upgrade refused: %1").arg(QString::fromLatin1(statusLine.trimmed())));
        return false;
    }
    m_buffer.remove(0, end + 4);
    m_handshakeDone = true;
    Q_EMIT opened();
    return true;
}

void RawWsClient::readFrames()
{
    for (;;) {
        if (m_buffer.size() < 2)
            return;
        const auto *data = reinterpret_cast<const uchar *>(m_buffer.constData());
        const bool fin = data[0] & 0x80;
        const int opcode = data[0] & 0x0F;
        const bool masked = data[1] & 0x80;
        quint64 length = data[1] & 0x7F;
        qsizetype offset = 2;
        if (length == 126) {
            if (m_buffer.size() < 4)
                return;
            length = qFromBigEndian<quint16>(data + 2);
            offset = 4;
        } else if (length == 127) {
            if (m_buffer.size() < 10)
                return;
            length = qFromBigEndian<quint64>(data + 2);
            offset = 10;
        }
        if (length > quint64(256) * 1024 * 1024) {
            fail(QStringLiteral("frame too large"));
            return;
        }
        const qsizetype maskOffset = offset;
        if (masked)
            offset += 4;
        if (m_buffer.size() < offset + qsizetype(length))
            return;
        QByteArray payload;
        if (opcode >= 0x8) { // control frames are tiny; unmask them if a server masked them anyway
            payload = m_buffer.mid(offset, qsizetype(length));
            if (masked)
                for (qsizetype i = 0; i < payload.size(); ++i)
                    payload[i] = char(payload[i] ^ m_buffer[maskOffset + i % 4]);
        }
        m_buffer.remove(0, offset + qsizetype(length));
        switch (opcode) {
        case 0x0:
        case 0x1:
        case 0x2:
            m_messageSize += qsizetype(length);
            if (fin) {
                const qsizetype size = m_messageSize;
                m_messageSize = 0;
                onMessage(size);
            }
            break;
        case 0x8:
            fail(QStringLiteral("closed by peer"));
            return;
        case 0x9:
            sendFrame(0xA, payload);
            break;
        default:
            break;
        }
    }
}

void RawWsClient::onMessage(qsizetype size)
{
    const qint64 now = m_clock->nsecsElapsed();
    if (recording) {
        samplesNs.append(now - m_sentAtNs);
        if (size != m_payloadSize)
            ++errors;
    }
    if (m_running) {
        m_sentAtNs = m_clock->nsecsElapsed();
        m_socket.write(m_frame);
    }
}

void RawWsClient::run()
{
    m_running = true;
    m_sentAtNs = m_clock->nsecsElapsed();
    m_socket.write(m_frame);
}

void RawWsClient::sendFrame(int opcode, const QByteArray &payload)
{
    m_socket.write(maskedFrame(opcode, payload));
}

void RawWsClient::onDisconnected()
{
    if (!m_handshakeDone)
        fail(QStringLiteral("upgrade refused: connection closed during the handshake"));
    else
        fail(QStringLiteral("connection closed"));
}

void RawWsClient::fail(const QString &reason)
{
    if (m_failed)
        return;
    m_failed = true;
    if (m_running || recording)
        ++errors;
    m_running = false;
    Q_EMIT failed(reason);
}
