#!/usr/bin/env bash
# Sets up, builds and runs Keyhole locally: keyhole-proxy on the in-memory bus plus keyhole-cli
# publishing a local port, and prints the public URL.
#   scripts/run-local.sh            publish a small demo site (started here on port 3000)
#   PORT=5173 scripts/run-local.sh  publish your own service on 127.0.0.1:5173
# Ctrl+C stops everything.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/install-deps.sh
build_dir=${BUILD_DIR:-build-release}
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release -DKEYHOLE_BUILD_TESTS=OFF >/dev/null
cmake --build "$build_dir" --target keyhole-proxy keyhole-cli

proxy_port=${PROXY_PORT:-8080}
state_dir=${KEYHOLE_STATE_DIR:-$HOME/.config/keyhole}
mkdir -p "$state_dir"
pids=()
cleanup() { kill "${pids[@]}" 2>/dev/null || true; wait 2>/dev/null || true; }
trap cleanup EXIT INT TERM

if [ -z "${PORT:-}" ]; then
    PORT=3000
    site=$(mktemp -d)
    cat > "$site/index.html" <<'HTML'
<!doctype html><meta charset="utf-8"><title>Keyhole demo</title>
<h1>Hello through Keyhole</h1><p>This page is served from your machine, through the tunnel.</p>
HTML
    python3 -m http.server "$PORT" --bind 127.0.0.1 --directory "$site" >/dev/null 2>&1 &
    pids+=($!)
    echo "Demo site on http://127.0.0.1:$PORT (set PORT=... to publish your own service)"
fi

"$build_dir/proxy/keyhole-proxy" --listen "127.0.0.1:$proxy_port" --domain localhost &
pids+=($!)
"$build_dir/desktop-client/cli/keyhole-cli" --proxy "http://localhost:$proxy_port" --port "$PORT" \
    --key "$state_dir/key.pem" &
pids+=($!)
echo "Open the URL on the 'Tunnel online:' line keyhole-cli prints (curl works too). Ctrl+C stops."
wait -n "${pids[@]}"
