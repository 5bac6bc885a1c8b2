#!/usr/bin/env bash
# datagen → PostgreSQL end to end, against psql's \copy of the same rows.
#
# Both sides end with the same tables holding the same rows under the same
# primary, unique and foreign keys:
#   psql:    CREATE TABLE (no keys) + \copy of datagen's CSV output of the
#            same seed + ALTER TABLE … ADD the keys (+ ANALYZE, shown apart)
#   datagen: generation + binary COPY + keys + ANALYZE, one command
# Generating the CSV is not counted against psql.
#
# Usage: benches/pg_vs_copy.sh [GENFILE] [SCALE]
#   DATAGEN_BENCH_PG  server URL (default postgres://postgres@127.0.0.1:5432/test)
#   RUNS              runs per side, best taken (default 3)
set -euo pipefail

cd "$(dirname "$0")/.."
GENFILE=${1:-schemas/shop.toml}
SCALE=${2:-1}
RUNS=${RUNS:-3}
PG=${DATAGEN_BENCH_PG:-postgres://postgres@127.0.0.1:5432/test}
BIN=target/release/datagen
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"; psql -q "$PG" -c "DROP SCHEMA IF EXISTS bench_psql CASCADE; DROP SCHEMA IF EXISTS bench_datagen CASCADE" >/dev/null 2>&1 || true' EXIT

cargo build --release --quiet
now() { date +%s.%N; }
calc() { awk "BEGIN { printf \"%.6f\", $* }"; }
less() { awk "BEGIN { exit !($1 < $2) }"; }

echo "genfile $GENFILE, scale $SCALE, server $(psql -XAtq "$PG" -c 'SHOW server_version'), $(nproc) cores"
"$BIN" --config "$GENFILE" --scale "$SCALE" --target "csv://$WORK/csv" --quiet
ROWS=$(cat "$WORK"/csv/*.csv | wc -l)
TABLES=$(ls "$WORK"/csv/*.csv | wc -l)
ROWS=$((ROWS - TABLES))   # headers
echo "rows: $ROWS in $TABLES tables ($(du -sh "$WORK/csv" | cut -f1) of CSV)"

"$BIN" ddl --config "$GENFILE" --dialect postgres --keys-after --schema bench_psql > "$WORK/ddl.sql"
sed -n '1,/^-- constraints$/p' "$WORK/ddl.sql" > "$WORK/create.sql"
sed -n '/^-- constraints$/,$p' "$WORK/ddl.sql" > "$WORK/keys.sql"
: > "$WORK/copy.sql"; : > "$WORK/analyze.sql"
for f in "$WORK"/csv/*.csv; do
    table=$(basename "$f" .csv)
    echo "\\copy bench_psql.\"$table\" FROM '$f' WITH (FORMAT csv, HEADER true)" >> "$WORK/copy.sql"
    echo "ANALYZE bench_psql.\"$table\";" >> "$WORK/analyze.sql"
done

best_psql=; best_datagen=
for run in $(seq "$RUNS"); do
    psql -Xq "$PG" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS bench_psql CASCADE" -c "CREATE SCHEMA bench_psql" >/dev/null
    psql -Xq "$PG" -f "$WORK/create.sql" >/dev/null
    t0=$(now)
    psql -Xq -v ON_ERROR_STOP=1 "$PG" -f "$WORK/copy.sql" >/dev/null
    t1=$(now)
    psql -Xq -v ON_ERROR_STOP=1 "$PG" -f "$WORK/keys.sql" >/dev/null
    t2=$(now)
    psql -Xq -v ON_ERROR_STOP=1 "$PG" -f "$WORK/analyze.sql" >/dev/null
    t3=$(now)
    copy=$(calc "$t2 - $t0"); keys=$(calc "$t2 - $t1"); analyze=$(calc "$t3 - $t2")

    psql -Xq "$PG" -c "SET client_min_messages = warning" -c "DROP SCHEMA IF EXISTS bench_datagen CASCADE" >/dev/null
    t0=$(now)
    "$BIN" --config "$GENFILE" --scale "$SCALE" --target "$PG?schema=bench_datagen" --quiet
    t1=$(now)
    dg=$(calc "$t1 - $t0")
    printf 'run %d: psql \\copy + keys %.2f s (keys %.2f s; ANALYZE %.2f s more)   datagen %.2f s\n' \
        "$run" "$copy" "$keys" "$analyze" "$dg"
    if [ -z "$best_psql" ] || less "$copy" "$best_psql"; then best_psql=$copy; fi
    if [ -z "$best_datagen" ] || less "$dg" "$best_datagen"; then best_datagen=$dg; fi
done

# Same rows on both sides.
for f in "$WORK"/csv/*.csv; do
    table=$(basename "$f" .csv)
    diff=$(psql -XAtq "$PG" -c "SELECT (SELECT count(*) FROM (TABLE bench_psql.\"$table\" EXCEPT ALL TABLE bench_datagen.\"$table\") a) + (SELECT count(*) FROM (TABLE bench_datagen.\"$table\" EXCEPT ALL TABLE bench_psql.\"$table\") b)")
    [ "$diff" = 0 ] || { echo "table $table differs between the two loads ($diff rows)"; exit 1; }
done
echo "contents equal"
printf 'best: psql \\copy + keys %.2f s (%.0f rows/s), datagen end to end %.2f s (%.0f rows/s)\n' \
    "$best_psql" "$(calc "$ROWS / $best_psql")" "$best_datagen" "$(calc "$ROWS / $best_datagen")"
printf 'ratio (psql time / datagen time): %.2fx\n' "$(calc "$best_psql / $best_datagen")"
