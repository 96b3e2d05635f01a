#pragma once

#include "ClientState.h"

#include <QDateTime>
#include <QString>

namespace keyhole::tray {

// How a tunnel state looks in the tray: the single place that maps ClientState to an icon, a
// tooltip and the first line of the menu, so the tray icon and the fallback window agree.
struct StatePresentation {
    struct Input {
        client::ClientState state = client::ClientState::Offline;
        QString publicUrl;   // when online
        QDateTime nextRetry; // when waiting to reconnect
        QString detail;      // refusal reason or last error
        // When online: why the local service is not answering (empty while it answers), and where it is.
        QString localProblem;
        QString targetAuthority; // "127.0.0.1:3000"
        bool setupDone = true;   // the first-run dialog was completed
        // While (re)connecting: a problem retrying will not fix (ConnectionProblem::isLasting), shown as
        // an error with what to do instead of "connection lost, retrying".
        QString lastingProblem;
        QString advice;
        QDateTime now = QDateTime::currentDateTimeUtc();
    };

    QString iconPath; // ":/icons/keyhole-online.svg"...
    QString toolTip;
    QString stateLine;

    static StatePresentation of(const Input &input);
};

} // namespace keyhole::tray
