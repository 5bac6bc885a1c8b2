#!/usr/bin/env bash
# A long stream with its memory sampled: the metering feed
# (schemas/metering.toml's [stream]) at RATE readings a second into rotated
# files for MINUTES minutes, while a reader takes each published file away
# (as a downstream processor would). Prints, every minute, the stream's
# RSS, the rows in its published files so far and the rate; ends with the
# first and the highest RSS. Not part of CI.
#
# Usage: benches/soak.sh [MINUTES] [RATE]      (default: 60 50000)
#   BIN   the datagen binary (default target/release/datagen)
set -euo pipefail

cd "$(dirname "$0")/.."
MINUTES=${1:-60}
RATE=${2:-50000}
BIN=${BIN:-target/release/datagen}
WORK=$(mktemp -d)
FEED="$WORK/feed"
cleanup() {
    [ -n "${PID:-}" ] && kill "$PID" 2>/dev/null || true
    [ -n "${READER:-}" ] && kill "$READER" 2>/dev/null || true
    rm -rf "$WORK"
}
trap cleanup EXIT INT TERM

"$BIN" stream --config schemas/metering.toml --quiet --rate "$RATE" \
    --duration "${MINUTES}m" \
    --target "files://$FEED?format=text&template={consumer_id} {kwh}&rotate_bytes=16777216&manifest=true" \
    2>"$WORK/stderr" &
PID=$!
# The reader: counts and removes each published file.
(
    while kill -0 "$PID" 2>/dev/null; do
        for f in "$FEED"/readings-*.txt; do
            [ -e "$f" ] || continue
            wc -l <"$f" >>"$WORK/read"
            rm -f "$f"
        done
        sleep 2
    done
) &
READER=$!

echo "minute,rss_mb,rows_read,rows_per_s"
start=$(date +%s)
first=""
peak=0
for m in $(seq 1 "$MINUTES"); do
    sleep 60
    kill -0 "$PID" 2>/dev/null || break
    rss=$(ps -o rss= -p "$PID" | tr -d ' ')
    rss_mb=$((rss / 1024))
    read_rows=$(awk '{s+=$1} END {print s+0}' "$WORK/read" 2>/dev/null || echo 0)
    secs=$(( $(date +%s) - start ))
    echo "$m,$rss_mb,$read_rows,$((read_rows / secs))"
    [ -z "$first" ] && first=$rss_mb
    [ "$rss_mb" -gt "$peak" ] && peak=$rss_mb
done
wait "$PID" || true
echo "rss: first minute ${first:-?} MB, highest ${peak} MB"
tail -3 "$WORK/stderr"
