#!/usr/bin/env bash
# Builds the libFuzzer targets (tests/fuzz) with clang and runs each for a while over its seed corpus.
# Usage: scripts/fuzz.sh [target|all] [seconds per target]      (default: all, 20 s: the CI smoke run)
#   FUZZ_BUILD_DIR   build folder (default: build-fuzz)
#   FUZZ_WORK_DIR    where new corpus entries and crash inputs go (default: $FUZZ_BUILD_DIR/fuzz-work);
#                    the seed corpus in tests/fuzz/corpus is only read, so a long run leaves the repo clean
#   FUZZ_ARGS        extra libFuzzer options, e.g. "-jobs=4 -workers=4" or "-only_ascii=1"
#   FUZZ_SEED        libFuzzer's -seed (default: a new one each run). CI fixes it so that a gate is
#                    reproducible: a seed run longer here covers what CI's shorter run reaches.
# Exits non-zero when a target crashed, leaked, hit a sanitizer or timed out; the input that did it is
# in $FUZZ_WORK_DIR/<target>/artifacts/. docs/FUZZING.md says how to reproduce and how to run for hours.
set -euo pipefail

cd "$(dirname "$0")/.."
target=${1:-all}
seconds=${2:-20}
build_dir=${FUZZ_BUILD_DIR:-build-fuzz}
work_dir=${FUZZ_WORK_DIR:-$build_dir/fuzz-work}
all_targets=(http_request http_response codec websocket registration redis_envelope)

scripts/install-deps.sh clang-14 libclang-rt-14-dev

if [ "$target" = all ]; then
    targets=("${all_targets[@]}")
else
    targets=("$target")
fi

cc=${CC:-clang-14}
cxx=${CXX:-clang++-14}
launcher=()
command -v ccache >/dev/null 2>&1 && launcher=(-DCMAKE_C_COMPILER_LAUNCHER=ccache -DCMAKE_CXX_COMPILER_LAUNCHER=ccache)
CC=$cc CXX=$cxx cmake -S . -B "$build_dir" -G Ninja -DCMAKE_BUILD_TYPE=RelWithDebInfo -DKEYHOLE_FUZZ=ON \
    -DKEYHOLE_BUILD_TRAY=OFF -DKEYHOLE_BUILD_BENCH=OFF "${launcher[@]}" >/dev/null
cmake --build "$build_dir" --target $(printf 'fuzz_%s ' "${targets[@]}")

max_len_for() { # room past each target's limits: tokens go up to 8 KiB, everything else has small ones
    case "$1" in
        registration) echo 10000 ;;
        *) echo 4096 ;;
    esac
}

dictionary_for() {
    case "$1" in
        http_*) echo tests/fuzz/dict/http.dict ;;
        codec) echo tests/fuzz/dict/cbor.dict ;;
        registration) echo tests/fuzz/dict/jws.dict ;;
        redis_envelope) echo tests/fuzz/dict/redis.dict ;;
    esac
}

failed=()
for t in "${targets[@]}"; do
    seeds=tests/fuzz/corpus/$t
    [ -d "$seeds" ] || { echo "fuzz: no target '$t' (have: ${all_targets[*]})" >&2; exit 2; }
    work=$work_dir/$t
    mkdir -p "$work/corpus" "$work/artifacts"
    dict=$(dictionary_for "$t")
    echo "=== fuzz_$t for ${seconds}s"
    # The first folder receives what the fuzzer finds; the seeds are read only.
    # shellcheck disable=SC2086
    if ! "$build_dir/tests/fuzz/fuzz_$t" "$work/corpus" "$seeds" ${dict:+-dict=$dict} \
            -max_total_time="$seconds" -max_len="$(max_len_for "$t")" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
            -artifact_prefix="$work/artifacts/" ${FUZZ_SEED:+-seed=$FUZZ_SEED} ${FUZZ_ARGS:-} 2>"$work/log"; then
        failed+=("$t")
        tail -n 60 "$work/log" >&2
    fi
    grep -E '^(stat::number_of_executed_units|stat::average_exec_per_sec|stat::new_units_added|Done )' "$work/log" \
        | sed "s/^/  $t: /" || true
done

if [ ${#failed[@]} -gt 0 ]; then
    echo "fuzz: findings in: ${failed[*]} (inputs under $work_dir/<target>/artifacts/)" >&2
    exit 1
fi
echo "fuzz: no findings"
