#!/usr/bin/env bash
# Checks that every C++ file under version control is formatted as .clang-format says (clang-format-14,
# Debian's). Usage: scripts/check-format.sh [--fix]   --fix rewrites the files instead of failing.
set -euo pipefail

cd "$(dirname "$0")/.."
scripts/install-deps.sh clang-format-14
formatter=${CLANG_FORMAT:-clang-format-14}
mapfile -t files < <(git ls-files '*.cpp' '*.h')
if [ "${1:-}" = --fix ]; then
    "$formatter" -i "${files[@]}"
    exit 0
fi
if ! report=$("$formatter" --dry-run --Werror "${files[@]}" 2>&1); then
    printf '%s\n' "$report" | head -n 40 >&2
    echo "check-format: the files above differ from .clang-format; scripts/check-format.sh --fix rewrites them" >&2
    exit 1
fi
echo "check-format: ${#files[@]} files as .clang-format says"
