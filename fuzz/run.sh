#!/usr/bin/env bash
# Runs every fuzz target (or the ones named) for SECONDS each, starting
# from the committed seed corpus in fuzz/corpus/TARGET. New inputs go to a
# scratch directory, so the committed corpus is never changed; a crash
# stops the script with libFuzzer's report and the crashing input in
# fuzz/artifacts/TARGET/.
#
#   fuzz/run.sh SECONDS [TARGET...]
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`). On a stable toolchain the
# sanitizer flags are enabled with RUSTC_BOOTSTRAP=1.
set -euo pipefail
cd "$(dirname "$0")"
secs=${1:?usage: fuzz/run.sh SECONDS [TARGET...]}
shift
targets=("$@")
if [[ ${#targets[@]} -eq 0 ]]; then
    mapfile -t targets < <(cargo fuzz list)
fi
scratch=$(mktemp -d)
trap 'rm -rf "$scratch"' EXIT
export RUSTC_BOOTSTRAP=1
cargo fuzz build --release
for t in "${targets[@]}"; do
    mkdir -p "$scratch/$t"
    echo "-- fuzz $t for ${secs}s"
    cargo fuzz run --release "$t" "$scratch/$t" "corpus/$t" -- \
        -max_total_time="$secs" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 2>&1 |
        grep -E 'stat::number_of_executed_units|stat::peak_rss_mb|ERROR|SUMMARY|panicked|Test unit written' || true
    # grep hides libFuzzer's chatter; its exit status decides.
    if [[ ${PIPESTATUS[0]} -ne 0 ]]; then
        echo "fuzz target $t failed" >&2
        exit 1
    fi
done
