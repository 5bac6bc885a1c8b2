#!/usr/bin/env bash
# The cost of `unique = true` per value, and a check that 10 million rows
# hold no duplicate: each generator alone in a table of ROWS rows, with and
# without `unique`, generated into `null://` with one worker (the best of
# RUNS wall times), then the unique column written to CSV and its distinct
# lines counted with `sort -u`.
#
# Usage: benches/unique.sh
#   ROWS   rows per table (default 10000000)
#   RUNS   timed runs per case; the fastest is kept (default 3)
#   ONLY   run only the cases whose name matches this extended regex
#
# The cost per value is (unique − plain) / ROWS: what the permutation and
# turning its number back into a value add to drawing a random value.
# `full` is a space exactly as large as the table (10^7 seven-digit
# strings for 10 million rows): every value is used once.
set -euo pipefail

cd "$(dirname "$0")/.."
ROWS=${ROWS:-10000000}
RUNS=${RUNS:-3}
BIN=target/release/datagen
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT
cargo build --release --quiet

CASES=(
    'pattern|gen = "pattern", pattern = "???-####-**"'
    'full|gen = "pattern", pattern = "#######"'
    'string|gen = "string", len = [8, 12], charset = "alnum"'
    'br.cpf|gen = "br.cpf"'
    'br.cnpj|gen = "br.cnpj"'
    'phone en_US|gen = "phone"'
    'phone pt_BR|gen = "phone", locale = "pt_BR"'
    # Table-level groups: `a` and `b` with `unique = ["a", "b"]` instead of
    # `unique = true` (10 regions × 10^6 serials: every pair once at 10M).
    'group|a = { gen = "choice", values = ["n", "s", "e", "w", "c", "ne", "nw", "se", "sw", "x"] }, b = { gen = "pattern", pattern = "######" }'
    'group 3|a = { gen = "choice", values = ["n", "s", "e", "w", "c"] }, b = { gen = "int", min = 1, max = 1000 }, c = { gen = "pattern", pattern = "?##" }'
)

genfile() { # FILE SPEC UNIQUE
    if [[ $2 == a\ =* ]]; then
        # A group: its columns, one per line, and the table's `unique`.
        local group=""
        if [ -n "$3" ]; then
            group="unique = [$(grep -oE '(^|, )[a-z] = ' <<< "$2" | sed -E 's/(, )?([a-z]) = /"\2"/' | paste -sd, -)]"
        fi
        printf '[run]\nseed = 1\n[pipeline]\nworkers = 1\n[tables.t]\nrows = %s\n%s\n[tables.t.columns]\n%s\n' \
            "$ROWS" "$group" "$(sed -E 's/ \}, ([a-z]) = / }\n\1 = /g' <<< "$2")" > "$1"
    else
        printf '[run]\nseed = 1\n[pipeline]\nworkers = 1\n[tables.t]\nrows = %s\n[tables.t.columns]\nv = { %s%s }\n' \
            "$ROWS" "$2" "$3" > "$1"
    fi
}

best() { # GENFILE TARGET: the fastest wall time of $RUNS runs
    local best=""
    for _ in $(seq "$RUNS"); do
        local t
        t=$( { /usr/bin/time -f '%e' "$BIN" --config "$1" --target "$2" --quiet >/dev/null; } 2>&1 | tail -1)
        if [ -z "$best" ] || awk "BEGIN { exit !($t < $best) }"; then best=$t; fi
    done
    echo "$best"
}

echo "# $(date -u +%F), $(git rev-parse --short HEAD), $ROWS rows, 1 worker, best of $RUNS"
printf '%-14s %10s %10s %12s %12s\n' generator plain_s unique_s ns_per_value distinct
for case in "${CASES[@]}"; do
    name=${case%%|*}
    spec=${case#*|}
    if [ -n "${ONLY:-}" ] && ! [[ $name =~ $ONLY ]]; then continue; fi
    if [ "$name" = full ] && [ "$ROWS" -gt 10000000 ]; then continue; fi
    genfile "$WORK/plain.toml" "$spec" ""
    genfile "$WORK/unique.toml" "$spec" ", unique = true"
    plain=$(best "$WORK/plain.toml" null://)
    unique=$(best "$WORK/unique.toml" null://)
    rm -rf "$WORK/csv"
    "$BIN" --config "$WORK/unique.toml" --target "csv://$WORK/csv" --quiet
    distinct=$(tail -n +2 "$WORK/csv/t.csv" | LC_ALL=C sort -u -S 1G -T "$WORK" | wc -l)
    rows=$(($(wc -l < "$WORK/csv/t.csv") - 1))
    if [ "$distinct" != "$rows" ] || [ "$rows" != "$ROWS" ]; then
        echo "$name: $rows rows, $distinct distinct" >&2
        exit 1
    fi
    ns=$(awk "BEGIN { printf \"%.1f\", ($unique - $plain) * 1e9 / $ROWS }")
    printf '%-14s %10s %10s %12s %12s\n' "$name" "$plain" "$unique" "$ns" "$distinct"
done
