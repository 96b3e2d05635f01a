#!/usr/bin/env bash
# Installs the build dependencies (Debian/Ubuntu, when missing), builds Keyhole and runs the whole test
# suite. Usage: scripts/test.sh   (BUILD_DIR=... to build elsewhere; default: build)
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}

scripts/install-deps.sh chromium nginx wrk redis-server haproxy # the browser test; the benchmark smoke check; scale-out

cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEYHOLE_WERROR=ON
cmake --build "$build_dir"
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300
