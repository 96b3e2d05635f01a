#!/usr/bin/env bash
# Builds the Linux packages (cpack: DEB and RPM, one per program) and checks them:
#   - lintian on each .deb, failing on any error;
#   - the server and CLI packages do not depend on Qt Gui/Widgets or QtKeychain;
#   - the programs are stripped and their symbols are in the -dbgsym packages;
#   - each program's --version and --help run from the unpacked .debs (the tray app on the offscreen platform);
#   - the AppStream metadata and the .desktop file validate; the manual pages are there;
#   - the systemd units' exposure score (systemd-analyze security --offline) is OK or better.
# Usage: scripts/package.sh   (BUILD_DIR=... to build elsewhere; default: build, as scripts/test.sh)
#        NO_BUILD=1 packages BUILD_DIR as it is (the ctest test `test_packages` does that).
# The packages end up in $BUILD_DIR/packages.
set -euo pipefail

cd "$(dirname "$0")/.."
build_dir=${BUILD_DIR:-build}

if [ -z "${NO_BUILD:-}" ]; then
    scripts/install-deps.sh help2man lintian rpm appstream desktop-file-utils file binutils
    launcher=()
    command -v ccache >/dev/null 2>&1 \
        && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
    cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEYHOLE_WERROR=ON -DKEYHOLE_SANITIZE=OFF \
        "${launcher[@]}"
    cmake --build "$build_dir"
fi

fail() {
    echo "package.sh: $*" >&2
    exit 1
}

out=$(cd "$build_dir" && pwd)/packages
rm -rf "$out"
for generator in DEB RPM; do
    cpack --config "$build_dir/CPackConfig.cmake" -G "$generator" -B "$out" >"$out.$generator.log" 2>&1 \
        || { cat "$out.$generator.log" >&2; fail "cpack -G $generator failed"; }
done

version=$(sed -n 's/^set(CPACK_PACKAGE_VERSION "\(.*\)")$/\1/p' "$build_dir/CPackConfig.cmake")
declare -A program_of=([keyhole-proxy]=keyhole-proxy [keyhole-cli]=keyhole-cli [keyhole]=keyhole)
root=$(mktemp -d)
trap 'rm -rf "$root"' EXIT

for package in keyhole-proxy keyhole-cli keyhole; do
    deb=$(ls "$out/${package}_"*.deb 2>/dev/null) || fail "no .deb for $package in $out"
    echo "=== $(basename "$deb")"
    dpkg-deb -f "$deb" Package Version Section Priority Maintainer Depends
    depends=$(dpkg-deb -f "$deb" Depends)
    if [ "$package" != keyhole ] && grep -Eq 'libqt6(widgets|gui)|keychain' <<<"$depends"; then
        fail "$package depends on a GUI library: $depends"
    fi
    ls "$out/${package}-dbgsym_"*.ddeb >/dev/null 2>&1 || fail "no -dbgsym package for $package"

    echo "--- lintian"
    lintian --fail-on error --tag-display-limit 0 "$deb" || fail "lintian reports errors for $(basename "$deb")"

    dpkg-deb -x "$deb" "$root"
    program=$root/usr/bin/${program_of[$package]}
    file "$program" | grep -q ', stripped' || fail "$program is not stripped"
    [ -f "$root/usr/share/man/man1/${program_of[$package]}.1.gz" ] || fail "no manual page for ${program_of[$package]}"
    [ -f "$root/usr/share/doc/$package/copyright" ] || fail "no copyright file in $package"
    [ -f "$root/usr/share/doc/$package/changelog.Debian.gz" ] || fail "no changelog in $package"

    echo "--- ${program_of[$package]} --version / --help (from the unpacked package)"
    reported=$(QT_QPA_PLATFORM=offscreen "$program" --version) || fail "$program --version failed"
    echo "$reported"
    grep -qF "$version" <<<"$reported" || fail "$program --version does not say $version"
    QT_QPA_PLATFORM=offscreen "$program" --help >"$root/help.txt" || fail "$program --help failed"
    grep -q -- '--version' "$root/help.txt" || fail "$program --help lists no options"
done

for rpm_file in "$out"/*.rpm; do
    echo "=== $(basename "$rpm_file")"
    echo "Requires: $(rpm -qpR "$rpm_file" 2>/dev/null | sed -n 's/()(64bit)$//p' | tr '\n' ' ')"
    case $(basename "$rpm_file") in
        keyhole-proxy-* | keyhole-cli-*)
            ! rpm -qpR "$rpm_file" 2>/dev/null | grep -Eq 'libQt6(Widgets|Gui)|keychain' \
                || fail "$(basename "$rpm_file") requires a GUI library" ;;
    esac
done

echo "=== desktop integration"
appstreamcli validate --no-net "$root"/usr/share/metainfo/*.metainfo.xml \
    || fail "the AppStream metadata does not validate"
if command -v desktop-file-validate >/dev/null 2>&1; then
    desktop-file-validate "$root/usr/share/applications/keyhole.desktop" || fail "keyhole.desktop does not validate"
    echo "keyhole.desktop: valid"
else
    echo "desktop-file-validate not installed: keyhole.desktop not checked"
fi

echo "=== systemd units (systemd-analyze security --offline)"
for unit in "$root"/usr/lib/systemd/system/*.service; do
    score=$(systemd-analyze security --offline=yes "$unit" 2>/dev/null | grep 'Overall exposure level') \
        || fail "systemd-analyze cannot read $unit"
    echo "$(basename "$unit"): ${score#*: }"
    grep -Eq ' (PERFECT|SAFE|OK) ' <<<"$score" || fail "$(basename "$unit") is exposed more than OK"
done

echo "package.sh: all packages in $out passed"
