#!/usr/bin/env bash
# Installs the build dependencies (Debian/Ubuntu, when missing), builds Keyhole and runs the whole test
# suite. Usage: scripts/test.sh [--sanitize]   (BUILD_DIR=... to build elsewhere; default: build)
#   --sanitize  the same suite in a second build with AddressSanitizer + UndefinedBehaviorSanitizer
#               (KEYHOLE_SANITIZE, default folder build-asan); any finding fails the test that caused it
set -euo pipefail

cd "$(dirname "$0")/.."
sanitize=OFF
if [ "${1:-}" = --sanitize ]; then
    sanitize=ON
    shift
fi
if [ "$sanitize" = ON ]; then
    build_dir=${BUILD_DIR:-build-asan}
else
    build_dir=${BUILD_DIR:-build}
fi

# the browser test; the benchmark smoke check; scale-out; promtool for test_operations; the packages
# (manual pages, checks: scripts/package.sh)
scripts/install-deps.sh chromium nginx wrk redis-server haproxy prometheus help2man lintian rpm appstream desktop-file-utils file

launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEYHOLE_WERROR=ON -DKEYHOLE_SANITIZE=$sanitize \
    "${launcher[@]}"
cmake --build "$build_dir"
reports=$build_dir/sanitizer-reports
[ "$sanitize" = ON ] && rm -f "$reports"/*
# Tests carry their own timeouts (longer under --sanitize); 300 s is for any that has none.
status=0
# Under the sanitizers, two tests that measure the proxy's own resources are left to the normal build:
# test_visitor_limits times how fast kernel buffers fill and test_descriptor_exhaustion counts file
# descriptors and CPU ticks, and ASan's slowdown and its own descriptors move both past their bounds.
# The packages (ctest -L packaging: scripts/package.sh) are built and checked from the normal build only.
exclude=()
[ "$sanitize" = ON ] && exclude=(-LE packaging -E '^(test_visitor_limits|test_descriptor_exhaustion)$')
ctest --test-dir "$build_dir" --output-on-failure -j2 --timeout 300 "${exclude[@]}" || status=$?
if [ "$sanitize" = ON ] && [ -n "$(ls -A "$reports" 2>/dev/null)" ]; then
    # Every process writes its findings here, also those the tests start (see cmake/Sanitizers.cmake).
    for f in "$reports"/*; do echo "=== $f"; cat "$f"; done >&2
    echo "test.sh: sanitizer findings above (in $reports)" >&2
    status=1
fi
exit $status
