#!/usr/bin/env bash
# Streams on this machine: the pacer's accuracy, and the most events a
# second each stream target takes.
#
# Usage: benches/streams.sh [pace|targets|all]      (default: all)
#   BIN      the datagen binary (default target/release/datagen)
#   SECONDS_PER_RATE  how long each paced run lasts (default 60)
#
# pace:    the metering feed (every row paced) into null:// at 1,000,
#          10,000 and 100,000 rows/s for SECONDS_PER_RATE each; the rows
#          made over the time taken, against the rate asked.
# targets: the shop's orders alone (customers, products and items made
#          but not emitted) as JSON, flat out, into null://, files://,
#          NATS JetStream, Redis Streams, MQTT (QoS 1) and RabbitMQ
#          (confirms); rows/s from `--report json`. Next to them the
#          servers' own tools where the machine has them
#          (redis-benchmark XADD).
set -euo pipefail

cd "$(dirname "$0")/.."
BIN=${BIN:-target/release/datagen}
WHAT=${1:-all}
SECS=${SECONDS_PER_RATE:-60}
WORK=$(mktemp -d)
trap 'rm -rf "$WORK"' EXIT

report() { # report FILE TABLE -> "rows seconds"
    python3 -c '
import json, sys
r = json.load(open(sys.argv[1]))
rows = sum(t["rows"] for t in r["tables"] if sys.argv[2] in ("", t["table"]))
print(rows, r["seconds"])' "$1" "$2"
}

if [ "$WHAT" = pace ] || [ "$WHAT" = all ]; then
    echo "## pacer: metering feed into null://, ${SECS} s per rate"
    echo "rate,rows,seconds,achieved_rows_per_s,error_pct"
    for rate in 1000 10000 100000; do
        "$BIN" stream --config schemas/metering.toml --target null:// --quiet \
            --rate "$rate" --duration "${SECS}s" --report "json:$WORK/pace.json"
        read -r rows secs < <(report "$WORK/pace.json" "")
        python3 -c "
rate, rows, secs = $rate, $rows, $secs
achieved = rows / secs
print(f'{rate},{rows},{secs:.2f},{achieved:.0f},{100 * (achieved - rate) / rate:+.2f}')"
    done
fi

if [ "$WHAT" = targets ] || [ "$WHAT" = all ]; then
    GENFILE="$WORK/orders.toml"
    cp schemas/shop.toml "$GENFILE"
    cat >>"$GENFILE" <<'TOML'

[stream.tables.customers]
emit = false

[stream.tables.products]
emit = false

[stream.tables.order_items]
emit = false
TOML
    echo "## targets: the shop's orders as JSON, flat out"
    echo "target,orders,seconds,orders_per_s"
    run() { # run NAME URL ROWS
        "$BIN" stream --config "$GENFILE" --quiet --rate max --max-rows "$3" \
            --target "$2" --report "json:$WORK/t.json"
        read -r rows secs < <(report "$WORK/t.json" orders)
        python3 -c "print(f'$1,$rows,{$secs:.2f},{$rows / $secs:.0f}')"
    }
    ID=bench$$
    run null "null://" 2000000
    run files "files://$WORK/files?rotate_bytes=268435456" 2000000
    rm -rf "$WORK/files"
    run nats "nats://127.0.0.1:4222?stream=BENCH$ID&subject=$ID.{table}&checkpoint=$WORK/n.ck" 1000000
    run redis "redis://127.0.0.1:6379?stream=$ID:{table}&checkpoint=$WORK/r.ck" 1000000
    run mqtt "mqtt://127.0.0.1:1883?topic=$ID/{table}&checkpoint=$WORK/m.ck" 300000
    run rabbitmq "amqp://guest:guest@127.0.0.1:5672/%2f?queue=$ID.{table}&routing_key=$ID.{table}&checkpoint=$WORK/a.ck" 200000
    # Clean up what the brokers hold.
    redis-cli DEL "$ID:orders" >/dev/null 2>&1 || true
    rabbitmqctl delete_queue "$ID.orders" >/dev/null 2>&1 || true
    python3 - "$ID" <<'PY' || true
import socket, sys
# Delete the JetStream stream through the NATS protocol's request API.
s = socket.create_connection(("127.0.0.1", 4222)); s.recv(4096)
s.sendall(b'CONNECT {"verbose":false}\r\nPUB $JS.API.STREAM.DELETE.BENCH%s 0\r\n\r\nPING\r\n' % sys.argv[1].encode())
s.recv(4096)
PY
    if command -v redis-benchmark >/dev/null; then
        echo "## redis-benchmark: XADD of a 250-byte field, one connection, pipeline 1000"
        redis-benchmark -q -n 1000000 -c 1 -P 1000 -d 250 XADD "bench:$ID" '*' row __data__ | tail -1
        redis-cli DEL "bench:$ID" >/dev/null
    fi
fi
