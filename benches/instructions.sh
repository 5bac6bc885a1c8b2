#!/usr/bin/env bash
# Instructions per row: a measure of speed that does not move with the
# machine's load. Wall time on shared machines varies by ±25% between runs;
# the instructions a run executes do not (a few hundredths of a percent).
#
# Each example Genfile runs at two small scales (sized so that the larger
# one makes about ROWS rows) into CSV and into SQLite, with one generator
# worker, under `valgrind --tool=callgrind`, and the
# script prints, per workload:
#   rows          rows generated at the larger scale
#   Ir/row        instructions of the whole process at the larger scale,
#                 divided by its rows (start-up included)
#   marginal      (Ir at 2s − Ir at s) / (rows at 2s − rows at s): the cost
#                 of one more row, start-up excluded — the figure to compare
#
# Usage: benches/instructions.sh [GENFILE...]   (default: every schemas/*.toml)
#   ROWS       rows at the larger scale, about (default 100000); or
#   SCALE      the smaller scale for every Genfile (the larger is twice it)
#   TARGETS    space-separated: csv sqlite (default both)
#   BIN        the binary (default target/release/datagen, built if missing)
#   CSV_OUT    also append the rows to this CSV file
#
# Needs valgrind (apt-get install valgrind).
set -euo pipefail

cd "$(dirname "$0")/.."
ROWS=${ROWS:-100000}
TARGETS=${TARGETS:-csv sqlite}
BIN=${BIN:-target/release/datagen}
if [ $# -gt 0 ]; then GENFILES=("$@"); else GENFILES=(schemas/*.toml); fi

command -v valgrind >/dev/null || { echo "valgrind is needed (apt-get install valgrind)" >&2; exit 1; }
if [ "$BIN" = target/release/datagen ]; then
    cargo build --release --quiet
fi
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

# measure GENFILE TARGET SCALE: prints "ROWS INSTRUCTIONS".
measure() {
    local genfile=$1 target=$2 scale=$3 url
    rm -rf "$WORK/out"
    mkdir -p "$WORK/out"
    case $target in
        csv) url="csv://$WORK/out" ;;
        sqlite) url="sqlite://$WORK/out/db.sqlite" ;;
        *) echo "unknown target $target" >&2; exit 1 ;;
    esac
    valgrind --tool=callgrind --callgrind-out-file="$WORK/callgrind.out" \
        "$BIN" --config "$genfile" --scale "$scale" --workers 1 --target "$url" \
        >"$WORK/stdout" 2>"$WORK/stderr" || { cat "$WORK/stderr" >&2; exit 1; }
    local rows instructions
    rows=$(sed -n 's/^\([0-9][0-9]*\) rows in .*/\1/p' "$WORK/stderr" | tail -1)
    instructions=$(sed -n 's/^==[0-9]*== Collected : \([0-9][0-9]*\)$/\1/p' "$WORK/stderr" | tail -1)
    if [ -z "$rows" ] || [ -z "$instructions" ]; then
        cat "$WORK/stderr" >&2
        echo "could not read rows or instructions" >&2
        exit 1
    fi
    echo "$rows $instructions"
}

# scale_for GENFILE: the scale at which it makes about ROWS/2 rows (counted
# by a quick run at scale 0.01 outside valgrind).
scale_for() {
    local rows
    rm -rf "$WORK/count"
    "$BIN" --config "$1" --scale 0.01 --workers 1 --target "csv://$WORK/count" 2>"$WORK/stderr" >/dev/null
    rows=$(sed -n 's/^\([0-9][0-9]*\) rows in .*/\1/p' "$WORK/stderr" | tail -1)
    awk "BEGIN { printf \"%.4g\", 0.01 * $ROWS / 2 / $rows }"
}

echo "$(date -u +%F), $(git rev-parse --short HEAD 2>/dev/null || echo '?'), $(valgrind --version), 1 worker"
printf "%-12s %-7s %8s %10s %16s %10s %10s\n" genfile target scale rows instructions Ir/row marginal
for genfile in "${GENFILES[@]}"; do
    small=${SCALE:-$(scale_for "$genfile")}
    large=$(awk "BEGIN { print $small * 2 }")
    for target in $TARGETS; do
        read -r r1 i1 < <(measure "$genfile" "$target" "$small")
        read -r r2 i2 < <(measure "$genfile" "$target" "$large")
        per_row=$(awk "BEGIN { printf \"%.0f\", $i2 / $r2 }")
        marginal=$(awk "BEGIN { printf \"%.0f\", ($i2 - $i1) / ($r2 - $r1) }")
        name=$(basename "$genfile" .toml)
        printf "%-12s %-7s %8s %10s %16s %10s %10s\n" "$name" "$target" "$large" "$r2" "$i2" "$per_row" "$marginal"
        if [ -n "${CSV_OUT:-}" ]; then
            echo "$name,$target,$large,$r2,$i2,$per_row,$marginal" >> "$CSV_OUT"
        fi
    done
done
