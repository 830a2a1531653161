#!/usr/bin/env bash
# GET and PUT throughput and latency of one node and of a 3-node cluster (N=3, W=2, R=2,
# load sent to one node, which coordinates) on each runtime, beside that runtime's bare
# hello-world server measured in the same run (the machine is shared: only ratios travel).
#
#   npm run bench                      # all runtimes, 3 rounds of 5 s per measurement
#   DURATION=10 ROUNDS=5 RUNTIMES="bun" npm run bench
#
# wrk runs with 1 thread and 32 connections; on a 2-core machine that leaves one core
# for the server, which is what a single-threaded JS server can use anyway.
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-5}
ROUNDS=${ROUNDS:-3}
CLUSTER=${CLUSTER:-1}   # 0: measure the bare server and one node only
CONNECTIONS=${CONNECTIONS:-32}
RUNTIMES=${RUNTIMES:-"node bun deno"}
. bench/common.sh

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

command_for() { # runtime script args...
  local rt=$1; shift
  echo "$(runtime_command "$rt") $*"
}

# wrk → "rps p50 p99" (latencies in ms)
measure() { # url [lua script]
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$2" "$1")
  else out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1"); fi
  if echo "$out" | grep -q "Non-2xx"; then
    echo "$out" >&2
    # Which answers they were, from the node's own counters (the bare server has none).
    curl -s "$(echo "$1" | grep -o 'http://[^/]*')/metrics" | grep -E '^dht_http_requests_total.*status="[^2]' >&2 || true
    echo "non-2xx answers from $1" >&2; exit 1
  fi
  echo "$out" | awk '
    function ms(v) { if (v ~ /us$/) return v/1000; if (v ~ /ms$/) return v+0; if (v ~ /s$/) return v*1000; return v }
    /Requests\/sec/ { rps = $2 }
    $1 == "50%" { p50 = ms($2) }
    $1 == "99%" { p99 = ms($2) }
    END { printf "%.0f %.2f %.2f\n", rps, p50, p99 }'
}

PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

start_node() { # port [introducer]
  $(command_for "$rt" mod.ts "$@" --log-level warn) >/dev/null 2>&1 & PIDS+=($!)
  wait_port "$1"
}

stop_nodes() { # pids...
  for p in "$@"; do kill -TERM "$p" 2>/dev/null || true; done
  for p in "$@"; do wait "$p" 2>/dev/null || true; done
}

# Each array holds "rps p50 p99" per round: the round with the median rps is reported.
ratio() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.0f%%", 100 * a / b }'; }

# Bare, one node and the cluster alternate, ROUNDS times each, and the medians are
# reported, so that drift on a shared machine hits every side alike.
printf "| runtime | bare GET req/s | 1 node GET req/s (vs bare) | GET p50 / p99 ms | 1 node PUT req/s | 3 nodes GET req/s (vs bare) | GET p50 / p99 ms | 3 nodes PUT req/s | PUT p50 / p99 ms |\n"
printf "|---|---|---|---|---|---|---|---|---|\n"
port=19100
value=$(head -c 100 /dev/zero | tr '\0' v)
for rt in $RUNTIMES; do
  bare=(); get1=(); put1=(); get3=(); put3=()
  for round in $(seq 1 "$ROUNDS"); do
    port=$((port + 10))
    $(command_for "$rt" bench/hello.ts "$port") >/dev/null 2>&1 & PIDS+=($!)
    wait_port "$port"
    bare+=("$(measure "http://127.0.0.1:$port/")")
    stop_nodes "${PIDS[-1]}"

    start_node $((port + 1))
    curl -s -X PUT --data-binary "$value" "http://127.0.0.1:$((port + 1))/d/bench" >/dev/null
    get1+=("$(measure "http://127.0.0.1:$((port + 1))/d/bench")")
    put1+=("$(measure "http://127.0.0.1:$((port + 1))" bench/put.lua)")
    stop_nodes "${PIDS[-1]}"

    if [ "$CLUSTER" = 0 ]; then get3+=("0 0 0"); put3+=("0 0 0"); continue; fi
    start_node $((port + 2)); a=${PIDS[-1]}
    start_node $((port + 3)) $((port + 2)); b=${PIDS[-1]}
    start_node $((port + 4)) $((port + 2)); c=${PIDS[-1]}
    wait_ring $((port + 2)) 3
    curl -s -X PUT --data-binary "$value" "http://127.0.0.1:$((port + 2))/d/bench" >/dev/null
    get3+=("$(measure "http://127.0.0.1:$((port + 2))/d/bench")")
    put3+=("$(measure "http://127.0.0.1:$((port + 2))" bench/put.lua)")
    stop_nodes "$a" "$b" "$c"
  done
  read -r bare_rps _ _ <<<"$(median "${bare[@]}")"
  read -r g1 g1p50 g1p99 <<<"$(median "${get1[@]}")"
  read -r p1 _ _ <<<"$(median "${put1[@]}")"
  read -r g3 g3p50 g3p99 <<<"$(median "${get3[@]}")"
  read -r p3 p3p50 p3p99 <<<"$(median "${put3[@]}")"
  printf "| %s | %s | %s (%s) | %s / %s | %s | %s (%s) | %s / %s | %s | %s / %s |\n" \
    "$rt" "$bare_rps" "$g1" "$(ratio "$g1" "$bare_rps")" "$g1p50" "$g1p99" "$p1" \
    "$g3" "$(ratio "$g3" "$bare_rps")" "$g3p50" "$g3p99" "$p3" "$p3p50" "$p3p99"
done
