#include "TrayController.h"

#include "Autostart.h"
#include "TunnelClient.h"
#include "ClientLogging.h"

namespace keyhole::tray {

using client::ClientState;

TrayController::TrayController(const AppSettings &settings, crypto::KeyPair key, const QString &keyPath,
                               QObject *parent)
    : QObject(parent)
    , m_settings(settings)
    , m_keyPath(keyPath.isEmpty() ? client::ClientSettings::defaultKeyPath() : keyPath)
{
    m_tunnel = new client::TunnelClient(m_settings.toClientSettings(m_keyPath), std::move(key), this);
    connect(m_tunnel, &client::TunnelClient::stateChanged, this, &TrayController::onStateChanged);
    connect(m_tunnel, &client::TunnelClient::registered, this, &TrayController::onRegistered);
    connect(m_tunnel, &client::TunnelClient::nextRetryAt, this, &TrayController::changed);
    connect(m_tunnel, &client::TunnelClient::requestFinished, this, &TrayController::requestFinished);
    auto count = [this](const client::RequestRecord &record) {
        using WsEvent = client::RequestRecord::WsEvent;
        if (record.wsEvent == WsEvent::Opened)
            return; // counted when it ends, with its bytes
        ++m_requests;
        m_bytesIn += record.bytesIn;
        m_bytesOut += record.bytesOut;
        Q_EMIT changed();
    };
    connect(m_tunnel, &client::TunnelClient::requestFinished, this, count);
    connect(m_tunnel, &client::TunnelClient::webSocketActivity, this, count);
    connect(m_tunnel, &client::TunnelClient::webSocketActivity, this, &TrayController::requestFinished);
    connect(m_tunnel, &client::TunnelClient::errorOccurred, this, [this](const QString &message) {
        if (m_tunnel->state() != ClientState::Refused) {
            m_detail = message;
            // A lasting problem is told once (until it changes); a passing one stays a quiet reconnect.
            const client::ConnectionProblem &problem = m_tunnel->connectionProblem();
            if (problem.isLasting() && problem.kind != m_toldProblem) {
                m_toldProblem = problem.kind;
                Q_EMIT lastingProblem(problem.sentence, problem.advice);
            } else if (!problem.isLasting()) {
                m_toldProblem = client::ConnectionProblem::Kind::None;
            }
            Q_EMIT changed();
        }
    });
    connect(m_tunnel, &client::TunnelClient::localServiceChanged, this, [this](const QString &problem) {
        // Refused, then timing out, is still one outage: one notification.
        const bool down = !problem.isEmpty();
        if (down != m_localDown) {
            m_localDown = down;
            if (down)
                Q_EMIT localServiceDown(problem);
            else
                Q_EMIT localServiceBack();
        }
        Q_EMIT changed();
    });
    connect(m_tunnel, &client::TunnelClient::localHostRefused, this, &TrayController::hostRefused);
    connect(m_tunnel, &client::TunnelClient::refused, this, [this](const QString &reason, const QByteArray &) {
        m_detail = reason;
        Q_EMIT refused(reason);
        Q_EMIT changed();
    });

    m_lostTimer.setSingleShot(true);
    m_lostTimer.setInterval(kDefaultLostNoticeDelayMs);
    connect(&m_lostTimer, &QTimer::timeout, this, [this] {
        if (state() == ClientState::Online || !isRunning())
            return;
        m_lostNotified = true;
        Q_EMIT connectionLost(m_detail);
    });
    m_countdown.setInterval(1000);
    connect(&m_countdown, &QTimer::timeout, this, &TrayController::changed);

    // Reachability is optional: without a backend (no NetworkManager...) the backoff alone reconnects.
    if (QNetworkInformation::loadBackendByFeatures(QNetworkInformation::Feature::Reachability)) {
        connect(QNetworkInformation::instance(), &QNetworkInformation::reachabilityChanged, this,
                &TrayController::onReachabilityChanged);
    }
}

TrayController::~TrayController() = default;

ClientState TrayController::state() const
{
    return m_tunnel->state();
}

bool TrayController::isRunning() const
{
    const ClientState s = state();
    return s != ClientState::Offline && s != ClientState::Refused && s != ClientState::Replaced;
}

QDateTime TrayController::nextRetry() const
{
    return m_tunnel->nextRetryTime();
}

QString TrayController::label() const
{
    return m_tunnel->label();
}

QString TrayController::predictedHostname() const
{
    return m_tunnel->predictedHostname();
}

QString TrayController::predictedPublicUrl(const AppSettings &settings) const
{
    // The confirmed URL keeps the proxy's public scheme and port; a new proxy brings its own.
    QUrl url = !m_publicUrl.isEmpty() && settings.proxyUrl == m_settings.proxyUrl ? QUrl(m_publicUrl)
                                                                                  : settings.proxyUrl;
    url.setUserInfo(QString());
    url.setHost(m_tunnel->predictedHostname(settings.name, settings.proxyUrl));
    url.setPath(QString());
    url.setQuery(QString());
    url.setFragment(QString());
    return url.toString();
}

QString TrayController::hostname() const
{
    return m_hostname.isEmpty() ? predictedHostname() : m_hostname;
}

QString TrayController::localServiceProblem() const
{
    return m_tunnel->localServiceProblem();
}

StatePresentation TrayController::presentation() const
{
    StatePresentation::Input input;
    input.state = state();
    input.localProblem = m_tunnel->localServiceProblem();
    input.targetAuthority = m_tunnel->settings().targetAuthority();
    input.setupDone = m_settings.firstRunDone;
    if (const client::ConnectionProblem &problem = m_tunnel->connectionProblem(); problem.isLasting()) {
        input.lastingProblem = problem.sentence;
        input.advice = problem.advice;
    }
    input.publicUrl = m_publicUrl;
    input.nextRetry = nextRetry();
    input.detail = m_detail;
    return StatePresentation::of(input);
}

QString TrayController::applySettings(const AppSettings &settings)
{
    if (const QString problem = settings.validate(); !problem.isEmpty())
        return problem;
    const bool hostnameChanges = settings.name != m_settings.name || settings.proxyUrl != m_settings.proxyUrl;
    const bool loginChanges = settings.startAtLogin != m_settings.startAtLogin;
    m_settings = settings;
    if (hostnameChanges) {
        m_publicUrl.clear();
        m_hostname.clear();
    }
    m_tunnel->applySettings(m_settings.toClientSettings(m_keyPath));
    if (loginChanges && m_autostart) {
        QString error;
        if (!m_autostart->setEnabled(m_settings.startAtLogin, &error))
            Q_EMIT warning(QStringLiteral("Could not change starting at login: %1").arg(error));
    }
    Q_EMIT changed();
    return {};
}

QString TrayController::setLocalPort(int port)
{
    AppSettings changedSettings = m_settings;
    changedSettings.targetPort = port;
    return applySettings(changedSettings);
}

void TrayController::setKey(crypto::KeyPair key)
{
    m_publicUrl.clear();
    m_hostname.clear();
    m_tunnel->setKey(std::move(key));
    Q_EMIT changed();
}

void TrayController::start()
{
    m_detail.clear();
    m_tunnel->start();
    Q_EMIT changed();
}

void TrayController::stop()
{
    m_lostTimer.stop();
    m_tunnel->stop();
    Q_EMIT changed();
}

void TrayController::reconnectNow()
{
    m_tunnel->reconnectNow();
}

void TrayController::onReachabilityChanged(QNetworkInformation::Reachability reachability)
{
    qCDebug(lcClient, "network reachability changed to %d", int(reachability));
    if (reachability == QNetworkInformation::Reachability::Online && state() == ClientState::WaitingToReconnect)
        reconnectNow();
}

void TrayController::onStateChanged(ClientState state)
{
    if (state == ClientState::WaitingToReconnect)
        m_countdown.start();
    else
        m_countdown.stop();

    if (state == ClientState::Online) {
        m_lostTimer.stop();
    } else if (m_wasOnline && isRunning() && !m_lostTimer.isActive() && !m_lostNotified) {
        m_lostTimer.start();
    }
    if (state == ClientState::Offline) {
        m_wasOnline = false;
        m_lostNotified = false;
        m_lostTimer.stop();
    }
    if (state == ClientState::Replaced)
        Q_EMIT replaced();
    Q_EMIT changed();
}

void TrayController::onRegistered(const client::TunnelInfo &info)
{
    m_toldProblem = client::ConnectionProblem::Kind::None;
    m_publicUrl = info.publicUrl;
    m_hostname = info.hostname;
    m_detail.clear();
    // Tell the user on the first registration and after an outage they were told about, not after
    // every short blip.
    const bool tell = !m_wasOnline || m_lostNotified;
    m_wasOnline = true;
    m_lostNotified = false;
    m_lostTimer.stop();
    if (tell)
        Q_EMIT wentOnline(info.publicUrl);
    Q_EMIT changed();
}

} // namespace keyhole::tray
