#!/usr/bin/env bash
# A reference consumer of the metering feed (`datagen stream --config
# schemas/metering.toml`): it sums each published file's readings per
# consumer and adds them to consumer_totals in PostgreSQL (upsert-add), the
# way a central store fed by the stream would. Each file is counted in one
# transaction together with its name in consumed_files, so a consumer
# killed at any moment and started again counts every file exactly once.
# `datagen verify` then checks the totals against the rows datagen made:
#
#   datagen stream --config schemas/metering.toml --max-rows 1000000
#   schemas/metering_consumer.sh out/metering-feed postgres://postgres@127.0.0.1/test
#   datagen verify --config schemas/metering.toml --stream --max-rows 1000000 \
#       --target postgres://postgres@127.0.0.1/test --table consumer_totals
#
# Usage: metering_consumer.sh FEED_DIR DATABASE_URL [SCHEMA]
# Files are taken in name order (the order they were published); the
# feed's own files (.datagen-stream*, manifest.jsonl) are left alone.
set -euo pipefail

feed=${1:?usage: metering_consumer.sh FEED_DIR DATABASE_URL [SCHEMA]}
db=${2:?usage: metering_consumer.sh FEED_DIR DATABASE_URL [SCHEMA]}
schema=${3:-public}
sql() { psql "$db" -X -q -v ON_ERROR_STOP=1 "$@"; }
quoted="\"${schema//\"/\"\"}\""
path="SET search_path TO $quoted;"

sql -c "CREATE SCHEMA IF NOT EXISTS $quoted; $path
CREATE TABLE IF NOT EXISTS consumer_totals (
  consumer_id uuid PRIMARY KEY,
  kwh numeric(38, 3) NOT NULL,
  readings bigint NOT NULL
);
CREATE TABLE IF NOT EXISTS consumed_files (
  name text PRIMARY KEY,
  consumed_at timestamptz NOT NULL DEFAULT now()
);"

counted=0
for file in "$feed"/readings-*.txt; do
  [ -e "$file" ] || continue
  name=$(basename "$file")
  done=$(sql -tA -c "$path SELECT count(*) FROM consumed_files WHERE name = '$name'")
  [ "$done" = 0 ] || continue
  # The file's name first: a second consumer of the same file fails here
  # and rolls back, instead of counting it again.
  sql <<SQL
$path
BEGIN;
INSERT INTO consumed_files (name) VALUES ('$name');
CREATE TEMP TABLE stage (consumer_id uuid, kwh numeric) ON COMMIT DROP;
\copy stage FROM '$file' WITH (FORMAT text, DELIMITER ' ', NULL '')
INSERT INTO consumer_totals (consumer_id, kwh, readings)
  SELECT consumer_id, coalesce(sum(kwh), 0), count(*) FROM stage GROUP BY consumer_id
  ON CONFLICT (consumer_id) DO UPDATE
  SET kwh = consumer_totals.kwh + EXCLUDED.kwh,
      readings = consumer_totals.readings + EXCLUDED.readings;
COMMIT;
SQL
  counted=$((counted + 1))
done
echo "metering_consumer: $counted new files counted into consumer_totals" >&2
