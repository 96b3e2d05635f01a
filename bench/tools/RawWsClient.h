#pragma once

#include <QByteArray>
#include <QElapsedTimer>
#include <QObject>
#include <QTcpSocket>
#include <QVector>

// One closed-loop WebSocket connection of the load client: send a binary message, wait for its
// echo, record the round trip, send the next. Written over QTcpSocket rather than QWebSocket
// because the tunnel routes on the Host header (<label>.localhost) while we dial 127.0.0.1, and
// QWebSocket always derives Host from the URL. The frame is masked once up front so the client
// costs next to nothing per message.
class RawWsClient : public QObject
{
    Q_OBJECT

public:
    RawWsClient(const QElapsedTimer *clock, QObject *parent = nullptr);

    void open(const QString &address, quint16 port, const QByteArray &hostHeader, const QByteArray &path,
              const QByteArray &payload);
    // Starts the send/echo loop (after opened()).
    void run();
    // Stops after the message in flight; the socket stays open.
    void halt() { m_running = false; }

    bool recording = false;    // record round trips only while set (warm-up excluded)
    QVector<qint64> samplesNs; // round trips while recording
    qint64 errors = 0;         // wrong echo sizes, drops

Q_SIGNALS:
    void opened();
    void failed(const QString &reason);

private:
    void onConnected();
    void onReadyRead();
    void onDisconnected();
    bool readHandshake();
    void readFrames();
    void onMessage(qsizetype size);
    void sendFrame(int opcode, const QByteArray &payload);
    void fail(const QString &reason);

    const QElapsedTimer *m_clock;
    QTcpSocket m_socket;
    QByteArray m_hostHeader;
    QByteArray m_path;
    QByteArray m_frame; // the masked message, sent again and again
    qsizetype m_payloadSize = 0;
    QByteArray m_buffer;
    qsizetype m_messageSize = 0; // bytes of the message being reassembled from fragments
    bool m_handshakeDone = false;
    bool m_running = false;
    bool m_failed = false;
    qint64 m_sentAtNs = 0;
};
