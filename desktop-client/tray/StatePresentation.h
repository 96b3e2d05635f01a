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
        QDateTime now = QDateTime::currentDateTimeUtc();
    };

    QString iconPath; // ":/icons/keyhole-online.svg"...
    QString toolTip;
    QString stateLine;

    static StatePresentation of(const Input &input);
};

} // namespace keyhole::tray
