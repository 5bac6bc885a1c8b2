#!/usr/bin/env bash
# Change streams and verification on this machine.
#
# Usage: benches/changes.sh [apply|verify|all]      (default: all)
#   BIN    the datagen binary (default target/release/datagen)
#   PGURL  PostgreSQL (default postgres://postgres@127.0.0.1:5432/test)
#   ROWS   changes streamed (default 1,000,000)
#   SCALE  the shop's --scale for verify (default 8: about 33M rows)
#
# apply:  schemas/shop_ops.toml streamed flat out (--max-rows ROWS) and
#         applied to SQLite and to PostgreSQL: changes applied per second.
#         Next to them, in the same run, the alternative a user has: the
#         same changes written as CSV files by datagen, then loaded and
#         merged by the databases' own tools — `sqlite3 .import` into a
#         staging table and one INSERT … ON CONFLICT of each key's last
#         change; `psql \copy` and the same merge (deletes with one DELETE).
#         Both end in the same tables (checked with datagen verify).
# verify: the shop at --scale SCALE loaded into SQLite and PostgreSQL,
#         then `datagen verify`: rows checked per second (expected and
#         read) and its peak memory (/usr/bin/time -v), against the load.
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/datagen}
PGURL=${PGURL:-postgres://postgres@127.0.0.1:5432/test}
ROWS=${ROWS:-1000000}
SCALE=${SCALE:-8}
WHAT=${1:-all}
WORK=$(mktemp -d)
NS=bench_changes_$$
trap 'rm -rf "$WORK"; psql "$PGURL" -qXc "DROP SCHEMA IF EXISTS $NS CASCADE" >/dev/null 2>&1 || true' EXIT

secs() { python3 -c 'import sys,time; print(f"{time.time()-float(sys.argv[1]):.2f}")' "$1"; }
now() { python3 -c 'import time; print(time.time())'; }
report() { # report FILE -> "rows seconds" of the changes tables
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
rows = sum(t["rows"] for t in r["tables"] if t["table"].endswith("_ops"))
print(rows, r["seconds"])' "$1"
}

if [ "$WHAT" = apply ] || [ "$WHAT" = all ]; then
    echo "## changes applied: schemas/shop_ops.toml, $ROWS rows streamed flat out"
    echo "target,changes,seconds,changes_per_s"
    "$BIN" stream --config schemas/shop_ops.toml --rate max --max-rows "$ROWS" --quiet \
        --target "sqlite://$WORK/applied.db" --report "json:$WORK/s.json"
    read -r n s < <(report "$WORK/s.json")
    echo "datagen → sqlite (applied),$n,$s,$(python3 -c "print(round($n/$s))")"
    "$BIN" verify --config schemas/shop_ops.toml --stream --max-rows "$ROWS" \
        --target "sqlite://$WORK/applied.db" | tail -1
    "$BIN" stream --config schemas/shop_ops.toml --rate max --max-rows "$ROWS" --quiet \
        --target "$PGURL?schema=${NS}" --report "json:$WORK/p.json"
    read -r n s < <(report "$WORK/p.json")
    echo "datagen → postgres (applied),$n,$s,$(python3 -c "print(round($n/$s))")"
    "$BIN" verify --config schemas/shop_ops.toml --stream --max-rows "$ROWS" \
        --target "$PGURL?schema=${NS}" | tail -1

    # The alternative: the changes as CSV, loaded and merged by each
    # database's tools.
    "$BIN" stream --config schemas/shop_ops.toml --rate max --max-rows "$ROWS" --quiet \
        --target "csv://$WORK/csv" --report "json:$WORK/c.json"
    read -r n s < <(report "$WORK/c.json")
    echo "datagen → csv files (not applied),$n,$s,$(python3 -c "print(round($n/$s))")"
    # The scripts: the Genfile's tables (changes tables as staging), the
    # CSV files imported, then per table the last change of each key
    # applied.
    "$BIN" ddl --config schemas/shop_ops.toml --dialect sqlite > "$WORK/sqlite-ddl.sql"
    "$BIN" ddl --config schemas/shop_ops.toml --dialect postgres --keys-after \
        | sed -n '/-- constraints/q;p' > "$WORK/pg-ddl.sql"
    python3 - "$WORK" <<'PY'
import csv, sys
work = sys.argv[1]
q = lambda c: '"' + c + '"'
pairs = [("products", "product_ops"), ("clients", "client_ops"), ("orders", "order_ops")]
def merge(dialect, table, ops):
    cols = next(csv.reader(open(f"{work}/csv/{ops}.csv")))[3:]
    collist = ", ".join(q(c) for c in cols)
    sets = ", ".join(f"{q(c)} = excluded.{q(c)}" for c in cols if c != "id")
    if dialect == "sqlite":
        last = f"SELECT * FROM {q(ops)} WHERE rowid IN (SELECT max(rowid) FROM {q(ops)} GROUP BY id)"
    else:
        last = f"SELECT DISTINCT ON (id) * FROM {q(ops)} ORDER BY id, datagen_pos DESC"
    return (f"CREATE TEMP TABLE last_{table} AS {last};\n"
            f"DELETE FROM {q(table)} WHERE id IN (SELECT id FROM last_{table} WHERE op = 'delete');\n"
            f"INSERT INTO {q(table)} ({collist}) SELECT {collist} FROM last_{table} WHERE op <> 'delete' "
            f"ON CONFLICT (id) DO UPDATE SET {sets};\n")
with open(f"{work}/import.sql", "w") as f:
    f.write("PRAGMA journal_mode = OFF; PRAGMA synchronous = OFF;\n")
    f.write(open(f"{work}/sqlite-ddl.sql").read() + "\nBEGIN;\n")
    for table, ops in pairs:
        f.write(f".import --csv --skip 1 {work}/csv/{ops}.csv {ops}\n")
        # .import reads an empty field as '', not NULL.
        header = next(csv.reader(open(f"{work}/csv/{ops}.csv")))
        f.write(f"UPDATE {q(ops)} SET " + ", ".join(f"{q(c)} = NULLIF({q(c)}, '')" for c in header) + ";\n")
    for table, ops in pairs:
        f.write(merge("sqlite", table, ops))
    f.write("COMMIT;\n")
with open(f"{work}/copy.sql", "w") as f:
    f.write(open(f"{work}/pg-ddl.sql").read() + "\nBEGIN;\n")
    for table, ops in pairs:
        header = next(csv.reader(open(f"{work}/csv/{ops}.csv")))
        f.write(f"ALTER TABLE {q(table)} ADD PRIMARY KEY (id);\n")
        f.write(f"ALTER TABLE {q(ops)} ADD COLUMN datagen_pos bigserial;\n")
        f.write(f"\\copy {q(ops)} ({', '.join(q(c) for c in header)}) FROM '{work}/csv/{ops}.csv' CSV HEADER\n")
    for table, ops in pairs:
        f.write(merge("postgres", table, ops))
    f.write("COMMIT;\n")
PY
    start=$(now)
    sqlite3 "$WORK/imported.db" < "$WORK/import.sql" >/dev/null
    echo "sqlite3 .import + merge (of those files),$n,$(secs "$start"),"
    "$BIN" verify --config schemas/shop_ops.toml --stream --max-rows "$ROWS" \
        --target "sqlite://$WORK/imported.db" --table products --table clients --table orders | tail -1
    psql "$PGURL" -qXc "DROP SCHEMA IF EXISTS ${NS}_copy CASCADE; CREATE SCHEMA ${NS}_copy" >/dev/null
    start=$(now)
    PGOPTIONS="-c search_path=${NS}_copy" psql "$PGURL" -qX -v ON_ERROR_STOP=1 -f "$WORK/copy.sql" >/dev/null
    echo "psql \\copy + merge (of those files),$n,$(secs "$start"),"
    "$BIN" verify --config schemas/shop_ops.toml --stream --max-rows "$ROWS" \
        --target "$PGURL?schema=${NS}_copy" --table products --table clients --table orders | tail -1
    psql "$PGURL" -qXc "DROP SCHEMA IF EXISTS ${NS}_copy CASCADE" >/dev/null
fi

if [ "$WHAT" = verify ] || [ "$WHAT" = all ]; then
    echo "## verify: schemas/shop.toml at --scale $SCALE"
    echo "store,load_seconds,verify_seconds,rows_checked_per_s,verify_peak_rss_mb"
    for store in "sqlite://$WORK/shop.db" "$PGURL?schema=${NS}_shop"; do
        start=$(now)
        "$BIN" --config schemas/shop.toml --scale "$SCALE" --quiet --target "$store"
        load=$(secs "$start")
        /usr/bin/time -v "$BIN" verify --config schemas/shop.toml --scale "$SCALE" --target "$store" \
            > "$WORK/verify.out" 2> "$WORK/verify.time"
        python3 - "$store" "$load" "$WORK/verify.out" "$WORK/verify.time" <<'PY'
import re, sys
store, load, out, tm = sys.argv[1:]
last = open(out).read().strip().splitlines()[-1]
m = re.search(r"\((\d+) rows expected, (\d+) read, ([\d.]+) s, (\d+) rows/s checked\)", last)
rss = int(re.search(r"Maximum resident set size \(kbytes\): (\d+)", open(tm).read()).group(1)) // 1024
print(f"{store.split('?')[0].split('://')[0]},{load},{m.group(3)},{m.group(4)},{rss}")
PY
    done
    psql "$PGURL" -qXc "DROP SCHEMA IF EXISTS ${NS}_shop CASCADE" >/dev/null
fi
