#!/usr/bin/env bash
# Run the coverage-guided fuzz harnesses for MINUTES each (default 5), one after the other:
#   fuzz/run.sh [MINUTES] [tokens|scan|all]
# The working corpus grows in fuzz/corpus/NAME (kept between runs, not committed); a failing
# input is written to fuzz/crashes/NAME-crash-<sha1> and stops the run (exit 77 or 1).
set -euo pipefail
cd "$(dirname "$0")/.."
minutes=${1:-5}
case "$minutes" in ''|*[!0-9]*|0) echo "usage: fuzz/run.sh [MINUTES>0] [tokens|scan|all]" >&2; exit 2;; esac
which=${2:-all}
py=${PYTHON:-python3}
for name in tokens scan; do
    [ "$which" = all ] || [ "$which" = "$name" ] || continue
    seeds=("fuzz/seeds/$name")
    [ "$name" = scan ] && seeds+=(examples)
    mkdir -p "fuzz/corpus/$name" fuzz/crashes
    echo "== fuzz_$name: $minutes min" >&2
    "$py" "fuzz/fuzz_$name.py" -max_total_time=$((minutes * 60)) -print_final_stats=1 \
        -dict="fuzz/$name.dict" -artifact_prefix="fuzz/crashes/$name-" \
        "fuzz/corpus/$name" "${seeds[@]}"
done
