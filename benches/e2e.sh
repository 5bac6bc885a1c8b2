#!/usr/bin/env bash
# A Genfile end to end into CSV (1 and 2 workers), SQLite and PostgreSQL at
# one or more scales: rows/s, MB/s of output and peak RSS of each run, and
# sqlite3's own `.import` of the same CSV into tables without keys, side by
# side on this machine.
#
# Usage: benches/e2e.sh [SCALE...]          (default: 1)
#   GENFILE           the Genfile (default schemas/shop.toml)
#   RUNS              runs per case; the fastest is shown (default 3)
#   DATAGEN_BENCH_PG  server URL (default postgres://postgres@127.0.0.1:5432/test);
#                     NO_PG=1 leaves PostgreSQL out
#
# Every run is `/usr/bin/time -f '%e %M' target/release/datagen …`: wall
# time includes planning, generation, writing, fsync and publishing (for
# PostgreSQL also keys and ANALYZE); the fastest run is shown, with the
# highest peak RSS of the runs. Output size: the files, or the tables with
# their indexes (pg_total_relation_size).
set -euo pipefail

cd "$(dirname "$0")/.."
GENFILE=${GENFILE:-schemas/shop.toml}
RUNS=${RUNS:-3}
PG=${DATAGEN_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
SCALES=("${@:-1}")
BIN=target/release/datagen
WORK=$(mktemp -d)
cleanup() {
    rm -rf "$WORK"
    if [ -z "${NO_PG:-}" ]; then
        psql -q "$PG" -c "DROP SCHEMA IF EXISTS bench_e2e CASCADE" >/dev/null 2>&1 || true
    fi
}
trap cleanup EXIT

command -v sqlite3 >/dev/null || { echo "sqlite3 is needed for the .import baseline (apt-get install sqlite3)" >&2; exit 1; }
cargo build --release --quiet

calc() { awk "BEGIN { printf \"%.2f\", $* }"; }

# time_best LABEL ROWS SIZE_COMMAND -- COMMAND...: runs COMMAND $RUNS times
# (SETUP before each, if set), prints the fastest run's time and the highest
# peak RSS of all runs.
time_best() {
    local label=$1 rows=$2 size_cmd=$3
    shift 4
    local best="" rss="" t m
    for _ in $(seq "$RUNS"); do
        [ -n "${SETUP:-}" ] && eval "$SETUP"
        /usr/bin/time -o "$WORK/time" -f "%e %M" "$@" >/dev/null 2>"$WORK/err" || {
            cat "$WORK/err" >&2
            exit 1
        }
        read -r t m < "$WORK/time"
        if [ -z "$best" ] || awk "BEGIN { exit !($t < $best) }"; then
            best=$t
        fi
        if [ -z "$rss" ] || [ "$m" -gt "$rss" ]; then
            rss=$m
        fi
    done
    local bytes
    bytes=$(eval "$size_cmd")
    printf "%-30s %7s s %8s M rows/s %8s MB/s %8s MB\n" "$label" "$best" \
        "$(calc "$rows / $best / 1000000")" "$(calc "$bytes / 1048576 / $best")" "$(calc "$rss / 1024")"
}

echo "$(date -u +%F), $(nproc) cores, $(awk -F': ' '/model name/ {print $2; exit}' /proc/cpuinfo), $GENFILE, best of $RUNS"
for SCALE in "${SCALES[@]}"; do
    CSV=$WORK/csv
    "$BIN" --config "$GENFILE" --scale "$SCALE" --target "csv://$CSV" --quiet
    ROWS=$(($(cat "$CSV"/*.csv | wc -l) - $(ls "$CSV"/*.csv | wc -l)))
    echo
    echo "--scale $SCALE: $ROWS rows"
    printf "%-30s %9s %17s %13s %11s\n" case wall throughput output "peak RSS"

    for workers in 1 2; do
        SETUP="rm -rf $WORK/out" time_best "datagen -> CSV, workers=$workers" "$ROWS" \
            "du -sb $WORK/out | cut -f1" -- \
            "$BIN" --config "$GENFILE" --scale "$SCALE" --workers "$workers" \
            --target "csv://$WORK/out" --quiet
    done

    SETUP="rm -f $WORK/shop.db" time_best "datagen -> SQLite (keys)" "$ROWS" \
        "stat -c %s $WORK/shop.db" -- \
        "$BIN" --config "$GENFILE" --scale "$SCALE" --target "sqlite://$WORK/shop.db" --quiet

    # sqlite3 .import of the same CSV: tables made by .import from the
    # headers (no types, no keys), in one transaction per table, with the
    # same journal-less, unsynced settings datagen's fresh file uses.
    {
        echo "PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;"
        for f in "$CSV"/*.csv; do
            echo ".import --csv $f $(basename "$f" .csv)"
        done
    } > "$WORK/import.sql"
    SETUP="rm -f $WORK/import.db" time_best "sqlite3 .import (no keys)" "$ROWS" \
        "stat -c %s $WORK/import.db" -- \
        sqlite3 "$WORK/import.db" ".read $WORK/import.sql"

    if [ -z "${NO_PG:-}" ]; then
        SETUP="psql -q '$PG' -c 'DROP SCHEMA IF EXISTS bench_e2e CASCADE' >/dev/null 2>&1" \
            time_best "datagen -> PostgreSQL (keys)" "$ROWS" \
            "psql -XAtq '$PG' -c \"SELECT sum(pg_total_relation_size(c.oid)) FROM pg_class c JOIN pg_namespace n ON n.oid = c.relnamespace WHERE n.nspname = 'bench_e2e' AND c.relkind = 'r'\"" -- \
            "$BIN" --config "$GENFILE" --scale "$SCALE" \
            --target "${PG}?schema=bench_e2e" --quiet
    fi
    rm -rf "$CSV"
done
