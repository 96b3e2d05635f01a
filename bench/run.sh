#!/usr/bin/env bash
# Keyhole benchmark: ONE command. Builds Release into its own build dir, then runs every setup,
# alternating, on this machine and prints a markdown report (also written to the results dir).
#
#   bench/run.sh                      full run (HTTP, WebSocket, idle tunnels, 64 MiB download, soak)
#   bench/run.sh --smoke              a couple of seconds per setup, tiny counts, no soak (CI)
#   bench/run.sh --only http|ws|idle|cross|stream|soak   one part (repeatable; cross needs redis-server)
#   bench/run.sh --soak-minutes N     soak length (default 10; 0 skips it)
#   bench/run.sh --only idle --idle-tunnels 15000 --idle-event-loop qt --idle-event-loop epoll
#                                     idle cost at N tunnels, once per proxy event loop
# Also: --rounds N, --duration S (HTTP seconds per run), --idle-tunnels N, --idle-event-loop qt|epoll,
#       --idle-cpu-seconds S (default 20), --out DIR,
#       --build-dir DIR (default <repo>/build-bench), --no-build (use KEYHOLE_PROXY, KEYHOLE_CLI,
#       KEYHOLE_BENCH_WS, KEYHOLE_BENCH_TUNNELS, KEYHOLE_BENCH_PING_FLOOR from the environment, or
#       the build dir's binaries).
# Needs nginx, wrk and curl (Debian: apt-get install -y nginx wrk curl); exits 77 without them.
set -euo pipefail

here="$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)"
repo="$(cd "$here/.." && pwd)"
build_dir="$repo/build-bench"
build=1
out=""
pass=()
command_line="bench/run.sh $*"

while [[ $# -gt 0 ]]; do
    case "$1" in
        --build-dir) build_dir="$2"; shift 2 ;;
        --no-build) build=0; shift ;;
        --out) out="$2"; shift 2 ;;
        -h|--help) sed -n '2,15p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) pass+=("$1"); shift ;;
    esac
done

for tool in nginx wrk curl python3; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "bench: $tool is not installed (Debian: apt-get install -y nginx wrk curl python3); skipping" >&2
        [[ "${CI:-}" == "true" ]] && exit 1 # CI installs them: a skip there is a failure
        exit 77
    fi
done

if [[ $build -eq 1 ]]; then
    # Tests and the tray app are not needed here; leaving them out keeps the build short.
    if [[ ! -f "$build_dir/build.ninja" ]]; then
        cmake -S "$repo" -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=Release \
            -DKEYHOLE_BUILD_TESTS=OFF -DKEYHOLE_BUILD_TRAY=OFF -DKEYHOLE_BUILD_BENCH=ON >&2
    fi
    ninja -C "$build_dir" keyhole-proxy keyhole-cli keyhole-bench-ws keyhole-bench-tunnels \
        keyhole-bench-ping-floor >&2
fi

export KEYHOLE_PROXY="${KEYHOLE_PROXY:-$build_dir/proxy/keyhole-proxy}"
export KEYHOLE_CLI="${KEYHOLE_CLI:-$build_dir/desktop-client/cli/keyhole-cli}"
export KEYHOLE_BENCH_WS="${KEYHOLE_BENCH_WS:-$build_dir/bench/keyhole-bench-ws}"
export KEYHOLE_BENCH_TUNNELS="${KEYHOLE_BENCH_TUNNELS:-$build_dir/bench/keyhole-bench-tunnels}"
export KEYHOLE_BENCH_PING_FLOOR="${KEYHOLE_BENCH_PING_FLOOR:-$build_dir/bench/keyhole-bench-ping-floor}"
if [[ $build -eq 1 ]]; then
    # Just built: never pick up stale binaries named in the environment.
    export KEYHOLE_PROXY="$build_dir/proxy/keyhole-proxy" KEYHOLE_CLI="$build_dir/desktop-client/cli/keyhole-cli"
    export KEYHOLE_BENCH_WS="$build_dir/bench/keyhole-bench-ws"
    export KEYHOLE_BENCH_TUNNELS="$build_dir/bench/keyhole-bench-tunnels"
    export KEYHOLE_BENCH_PING_FLOOR="$build_dir/bench/keyhole-bench-ping-floor"
fi

# 1000+ tunnels need as many descriptors in the proxy and in the load tool.
ulimit -n "$(ulimit -Hn)" 2>/dev/null || ulimit -n 65536 2>/dev/null || true

exec python3 "$here/keyhole_bench.py" --out "${out:-$build_dir/bench-results}" --command "$command_line" \
    ${pass[@]+"${pass[@]}"}
