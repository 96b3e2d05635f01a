#include "StatePresentation.h"

namespace keyhole::tray {

namespace {

const QString kOffline = QStringLiteral(":/icons/keyhole-offline.svg");
const QString kConnecting = QStringLiteral(":/icons/keyhole-connecting.svg");
const QString kOnline = QStringLiteral(":/icons/keyhole-online.svg");
const QString kDegraded = QStringLiteral(":/icons/keyhole-degraded.svg");
const QString kError = QStringLiteral(":/icons/keyhole-error.svg");

} // namespace

StatePresentation StatePresentation::of(const Input &input)
{
    using client::ClientState;
    StatePresentation p;
    switch (input.state) {
    case ClientState::Offline:
        p.iconPath = kOffline;
        p.stateLine = input.setupDone ? QStringLiteral("Tunnel stopped") : QStringLiteral("Setup not finished");
        break;
    case ClientState::Connecting:
        if (!input.lastingProblem.isEmpty()) {
            p.iconPath = kError;
            p.stateLine = input.lastingProblem;
            break;
        }
        p.iconPath = kConnecting;
        p.stateLine = QStringLiteral("Connecting to the proxy…");
        break;
    case ClientState::Registering:
        p.iconPath = kConnecting;
        p.stateLine = QStringLiteral("Registering…");
        break;
    case ClientState::Online:
        // Online means visitors get answers; a proxy path in front of a dead service does not count.
        if (input.localProblem.isEmpty()) {
            p.iconPath = kOnline;
            p.stateLine = QStringLiteral("Online");
        } else {
            p.iconPath = kDegraded;
            p.stateLine = QStringLiteral("Local service not answering on %1").arg(input.targetAuthority);
        }
        break;
    case ClientState::WaitingToReconnect: {
        if (!input.lastingProblem.isEmpty()) {
            p.iconPath = kError;
            p.stateLine = input.lastingProblem;
            break;
        }
        p.iconPath = kConnecting;
        const qint64 seconds = input.nextRetry.isValid() ? (input.now.msecsTo(input.nextRetry) + 999) / 1000 : 0;
        p.stateLine = seconds > 0 ? QStringLiteral("Connection lost, retrying in %1 s").arg(seconds)
                                  : QStringLiteral("Connection lost, retrying…");
        break;
    }
    case ClientState::Refused:
        p.iconPath = kError;
        p.stateLine = input.detail.isEmpty() ? QStringLiteral("Registration refused")
                                             : QStringLiteral("Registration refused: %1").arg(input.detail);
        break;
    case ClientState::Replaced:
        p.iconPath = kError;
        p.stateLine = QStringLiteral("Taken over by another client with this key");
        break;
    }

    p.toolTip = QStringLiteral("Keyhole: ") + p.stateLine;
    if (input.state == ClientState::Online && !input.publicUrl.isEmpty())
        p.toolTip += QStringLiteral("\n") + input.publicUrl;
    if (input.state == ClientState::Online && !input.localProblem.isEmpty())
        p.toolTip += QStringLiteral("\n") + input.localProblem;
    const bool reconnecting = input.state == ClientState::WaitingToReconnect || input.state == ClientState::Connecting;
    if (reconnecting && !input.lastingProblem.isEmpty() && !input.advice.isEmpty())
        p.toolTip += QStringLiteral("\n") + input.advice;
    if (input.state == ClientState::WaitingToReconnect && !input.detail.isEmpty())
        p.toolTip += QStringLiteral("\n") + input.detail;
    if (input.state == ClientState::Refused)
        p.toolTip += QStringLiteral("\nAsk the proxy's operator to allow this key (Keys… shows it), then start again.");
    return p;
}

} // namespace keyhole::tray
