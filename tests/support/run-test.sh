#!/usr/bin/env bash
# Runs one Qt Test executable for ctest. ctest alone reports a test that called QSKIP as passed; here a
# run that passed but printed a "SKIP   :" line exits 77 (keyhole_add_test's SKIP_RETURN_CODE), so
# ctest lists it as skipped. With CI=true (.ci/run) the environment is meant to have everything every
# test needs, so a skip fails the run instead. A failing run keeps its own exit status either way.
set -uo pipefail

log=$(mktemp) || exit 1
trap 'rm -f "$log"' EXIT
"$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
if [ "$status" -ne 0 ]; then
    exit "$status"
fi
if grep -q '^SKIP   : ' "$log"; then
    if [ "${CI:-}" = "true" ]; then
        echo "run-test.sh: a test was skipped and CI=true: failing (install what the skip message names)"
        exit 1
    fi
    exit 77
fi
exit 0
