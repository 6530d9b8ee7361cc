#!/bin/bash
# One `birzha load` run against a fresh `birzha serve` (docs/performance.md, gateway sections).
# usage: scripts/runload.sh <birzha binary> <config> [extra `birzha load` arguments...]
# The config is made with `birzha load --print-config 16` (throttles raised to 1 000 000/s and
# volatility_percent "0" for the flat-out runs); the server's data goes to /tmp/data-gw.
# LOAD_BIN=<another birzha binary> runs the load generator of another build (A/B of servers).
set -eu
B=$1; CONF=$2; shift 2
L=${LOAD_BIN:-$B}
rm -rf /tmp/data-gw
"$B" serve --config "$CONF" --data-dir /tmp/data-gw --listen 127.0.0.1:19878 \
    --admin-listen 127.0.0.1:19879 --log-format json > /tmp/serve.log 2>&1 &
PID=$!
sleep 3
"$L" load --server 127.0.0.1:19878 --sessions 16 --duration 10 \
    --mix add=45,cancel=45,aggressive=10 --config "$CONF" --quiet "$@" 2>&1 |
    grep -E "answered|latency|sent|from send|machine" || true
kill -TERM "$PID"; wait "$PID" || true
