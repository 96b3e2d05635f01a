#!/usr/bin/env bash
# Validates the tray app's AppStream metadata (appstreamcli, without network) and .desktop file
# (desktop-file-validate). Usage: check-desktop-metadata.sh METAINFO.xml DESKTOP-FILE
# A missing tool skips the test (exit 77), which fails the run when CI=true, as tests/support/run-test.sh does.
set -uo pipefail
metainfo=$1
desktop=$2
for tool in appstreamcli desktop-file-validate; do
    if ! command -v "$tool" >/dev/null 2>&1; then
        echo "SKIP: $tool is not installed (Debian: appstream, desktop-file-utils)"
        [ "${CI:-}" = true ] && exit 1
        exit 77
    fi
done
appstreamcli validate --no-net "$metainfo" || exit 1
desktop-file-validate "$desktop" || exit 1
echo "both valid"
