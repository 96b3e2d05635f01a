#!/usr/bin/env bash
# Retakes the tray app's screenshots in docs/ the way a new user meets it: under Xvfb, with a window
# manager (openbox) and a real system-tray host (trayer), against a real keyhole-proxy on the in-memory
# bus and a real local service (tests/integration/test_service.py). Every click and key is xdotool's.
#   scripts/screenshots.sh [BUILD_DIR]      (default: build; the programs must be built)
# Needs: apt-get install xvfb openbox trayer xdotool imagemagick x11-xserver-utils curl python3
set -euo pipefail
cd "$(dirname "$0")/.."
repo=$PWD
build=${1:-build}
proxy_bin=$build/proxy/keyhole-proxy
tray_bin=$build/desktop-client/tray/keyhole
for tool in Xvfb openbox trayer xdotool import xsetroot curl python3; do
    command -v "$tool" >/dev/null || { echo "screenshots.sh: $tool is missing (see the comment at the top)" >&2; exit 1; }
done
[ -x "$proxy_bin" ] && [ -x "$tray_bin" ] || { echo "screenshots.sh: build keyhole-proxy and keyhole first" >&2; exit 1; }

work=$(mktemp -d)
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; [ -n "${KEEP_WORK:-}" ] || rm -rf "$work"; }
trap cleanup EXIT INT TERM

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_for() { # wait_for SECONDS COMMAND...: retries COMMAND every 0.1 s
    local deadline=$((SECONDS + $1)); shift
    until "$@" >/dev/null 2>&1; do
        [ $SECONDS -lt $deadline ] || { echo "screenshots.sh: timed out waiting for: $*" >&2; exit 1; }
        sleep 0.1
    done
}
window_named() { xdotool search --onlyvisible --name "$1" | tail -1 | grep .; }
# Saves a window with the frame openbox draws around it.
shoot_window() { import -frame -window "$1" "$2"; }
# Saves the top right corner of the screen: the tray host with the open menu and any notification.
shoot_corner() { import -window root -crop "760x340+520+0" +repage "$1"; }
# trayer sits at the top right and holds only our icon: a left click there opens the menu.
tray_icon_click() {
    eval "$(xdotool getdisplaygeometry --shell)"
    xdotool mousemove $((WIDTH - 12)) 14 click 1
    settle
}
settle() { sleep 0.7; } # lets Qt paint after an input event; nothing to await from outside the process
tray_log() { cat "$work/profile.log" 2>/dev/null || true; }

export DISPLAY=:$((90 + RANDOM % 100))
Xvfb "$DISPLAY" -screen 0 1280x800x24 -nolisten tcp >/dev/null 2>&1 &
pids+=($!)
wait_for 10 xdotool getdisplaygeometry
openbox >/dev/null 2>&1 &
pids+=($!)
wait_for 10 xdotool search --class openbox
xsetroot -solid '#4c566a'
trayer --edge top --align right --widthtype request --height 28 --SetDockType true \
    --transparent false --tint 0x2e3440 >/dev/null 2>&1 &
pids+=($!)
wait_for 10 xdotool search --class trayer

proxy_port=$(free_port)
service_port=$(free_port)
"$proxy_bin" --listen "127.0.0.1:$proxy_port" --domain localhost >"$work/proxy.log" 2>&1 &
pids+=($!)
start_service() {
    python3 "$repo/tests/integration/test_service.py" "$service_port" >"$work/service.log" 2>&1 &
    service_pid=$!
    pids+=($service_pid)
    wait_for 10 curl -fsS "http://127.0.0.1:$service_port/status/200"
}
start_service
wait_for 10 curl -fsS "http://127.0.0.1:$proxy_port/healthz"

# 1. First run: the Welcome dialog, filled in as a user would, then Enter (Start is the default button).
export QT_QPA_PLATFORM=xcb XDG_RUNTIME_DIR=$work
QT_SCALE_FACTOR=1 "$tray_bin" --settings "$work/profile.ini" --key "$work/key.pem" >"$work/tray.out" 2>&1 &
pids+=($!)
wait_for 15 window_named "Welcome to Keyhole"
welcome=$(window_named "Welcome to Keyhole")
xdotool windowactivate --sync "$welcome"
xdotool key Tab ctrl+a
xdotool type --delay 5 "http://localhost:$proxy_port"
xdotool key Tab ctrl+a
xdotool type --delay 5 "$service_port"
settle
shoot_window "$welcome" docs/tray-welcome.png
xdotool key Return
wait_for 15 grep -q "registered as" "$work/profile.log"
public_url=$(grep -o 'registered as [^ ]*' "$work/profile.log" | head -1 | cut -d' ' -f3)
echo "tunnel online at $public_url"

# 2. Some traffic: pages, a JSON API call, a 404 and a binary download.
curl -fsS -o /dev/null "$public_url/echo"
curl -fsS -o /dev/null -H 'Content-Type: application/json' \
    --data '{"user":{"name":"Ada","roles":["admin","dev"]},"remember":true}' "$public_url/echo/login"
curl -sS -o /dev/null "$public_url/status/404"
curl -fsS -o /dev/null "$public_url/bytes/4096"
curl -fsS -o /dev/null "$public_url/events?n=3&interval_ms=10"

# 3. The menu, online, with its counters: a left click on the tray icon opens it.
sleep 11 # the "Tunnel online" notification goes away after 10 s; the menu should not sit under it
tray_icon_click
shoot_corner docs/tray-menu.png
xdotool key Escape

# 4. The local service stops: the next request fails; a notification, the icon and the menu say so.
kill "$service_pid"
wait "$service_pid" 2>/dev/null || true
curl -sS -o /dev/null "$public_url/echo" || true
wait_for 10 grep -q "refused the connection" "$work/profile.log"
settle
import -window root -crop "450x108+830+0" +repage "$work/down-notice.png" # the balloon under the icon
sleep 11
tray_icon_click
shoot_corner "$work/down-menu.png"
xdotool key Escape
convert "$work/down-notice.png" "$work/down-menu.png" -background "#4c566a" -gravity east -append \
    docs/tray-local-service-down.png
start_service
curl -fsS -o /dev/null "$public_url/echo"

# 5. The request log, opened from the menu: the JSON call selected, its response body pretty-printed.
tray_icon_click
xdotool key Down Down Down Down Down # the public URL, Open in browser, Stop, Local port, Request log
settle
xdotool key Return
wait_for 10 window_named "Keyhole Request Log"
log_window=$(window_named "Keyhole Request Log")
xdotool windowactivate --sync "$log_window"
xdotool windowsize --sync "$log_window" 1000 640
click_in_log() { xdotool mousemove --window "$log_window" "$1" "$2" click 1; settle; }
xdotool key ctrl+f
xdotool type --delay 5 "login"
click_in_log 400 67   # the only row left: POST /echo/login
click_in_log 332 220  # the "Response body" tab
shoot_window "$log_window" docs/request-log.png

# 6. Replay with changes: another path and body, sent from the "Edit and replay" tab.
click_in_log 513 220  # the "Edit and replay" tab
click_in_log 587 252  # the target
xdotool key ctrl+a
xdotool type --delay 5 "/echo/login?attempt=2"
click_in_log 530 500  # the body
xdotool key ctrl+a
xdotool type --delay 5 '{"user":{"name":"Grace","roles":["dev"]},"remember":false}'
click_in_log 938 606  # Send
wait_for 10 grep -q "POST /echo/login?attempt=2" "$work/service.log"
settle
shoot_window "$log_window" docs/request-replay-edited.png
echo "screenshots written to docs/"
