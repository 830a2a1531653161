#!/usr/bin/env bash
# One node's GET and PUT throughput and latency on each runtime, beside that runtime's bare
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
CONNECTIONS=${CONNECTIONS:-32}
RUNTIMES=${RUNTIMES:-"node bun deno"}
BIN=node_modules/.bin

if ! command -v wrk >/dev/null; then
  echo "installing wrk (Debian package)..." >&2
  if [ "$(id -u)" = 0 ]; then SUDO=""; else SUDO="sudo"; fi
  $SUDO apt-get update -qq && $SUDO apt-get install -y -qq wrk >/dev/null
fi

command_for() { # runtime script args...
  local rt=$1; shift
  case $rt in
    node) echo "$BIN/tsx $*" ;;
    bun) echo "$BIN/bun run $*" ;;
    deno) echo "$BIN/deno run -A $*" ;;
  esac
}

wait_port() {
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.05
  done
  echo "nothing listening on $1" >&2; return 1
}

# wrk → "rps p50 p99" (latencies in ms)
measure() { # url [lua script]
  local out
  if [ -n "${2:-}" ]; then out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency -s "$2" "$1")
  else out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" --latency "$1"); fi
  if echo "$out" | grep -q "Non-2xx"; then echo "$out" >&2; echo "non-2xx answers from $1" >&2; exit 1; fi
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

# Bare and node runs alternate, ROUNDS times each, and the medians are reported, so that
# drift on a shared machine hits both sides alike.
printf "| runtime | bare GET req/s | node GET req/s | GET vs bare | GET p50 / p99 ms | node PUT req/s | PUT p50 / p99 ms |\n"
printf "|---|---|---|---|---|---|---|\n"
port=19100
for rt in $RUNTIMES; do
  bare=(); get=(); put=()
  for round in $(seq 1 "$ROUNDS"); do
    port=$((port + 2))
    $(command_for "$rt" bench/hello.ts "$port") >/dev/null 2>&1 & PIDS+=($!)
    wait_port "$port"
    bare+=("$(measure "http://127.0.0.1:$port/")")
    kill "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true

    nport=$((port + 1))
    $(command_for "$rt" mod.ts "$nport" --log-level warn) >/dev/null 2>&1 & PIDS+=($!)
    wait_port "$nport"
    curl -s -X PUT --data-binary "$(head -c 100 /dev/zero | tr '\0' v)" "http://127.0.0.1:$nport/d/bench" >/dev/null
    get+=("$(measure "http://127.0.0.1:$nport/d/bench")")
    put+=("$(measure "http://127.0.0.1:$nport" bench/put.lua)")
    kill -TERM "${PIDS[-1]}"; wait "${PIDS[-1]}" 2>/dev/null || true
  done
  # Each array holds "rps p50 p99" per round: report the round with the median rps.
  pick() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }
  read -r bare_rps _ _ <<<"$(pick "${bare[@]}")"
  read -r get_rps get_p50 get_p99 <<<"$(pick "${get[@]}")"
  read -r put_rps put_p50 put_p99 <<<"$(pick "${put[@]}")"
  ratio=$(awk -v a="$get_rps" -v b="$bare_rps" 'BEGIN { printf "%.0f%%", 100 * a / b }')
  printf "| %s | %s | %s | %s | %s / %s | %s | %s / %s |\n" \
    "$rt" "$bare_rps" "$get_rps" "$ratio" "$get_p50" "$get_p99" "$put_rps" "$put_p50" "$put_p99"
done
