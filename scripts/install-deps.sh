#!/usr/bin/env bash
# Installs Keyhole's build and test dependencies from Debian's packages (Debian 12 / Ubuntu 22.04+),
# only those that are missing, so re-runs are quick. Extra package names may be passed as arguments.
set -euo pipefail

packages=(build-essential cmake ninja-build pkg-config qt6-base-dev qt6-websockets-dev libgl-dev libssl-dev
          node-llhttp libhiredis-dev curl python3 python3-websockets ca-certificates qtkeychain-qt6-dev libqt6svg6 "$@")

command -v dpkg >/dev/null 2>&1 || { echo "install-deps: not a Debian-based system; install the equivalents of: ${packages[*]}" >&2; exit 0; }

missing=()
for p in "${packages[@]}"; do
    dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "Installing: ${missing[*]}"
sudo=()
[ "$(id -u)" -eq 0 ] || sudo=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${sudo[@]}" apt-get update -q
"${sudo[@]}" apt-get install -y -q --no-install-recommends "${missing[@]}"
