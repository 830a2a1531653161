#!/usr/bin/env bash
# What our node can reach on Deno, measured beside it in one run: GET throughput of the
# bare hello, the same 100-byte answer from an async handler, through itty-router alone,
# a floor for the cluster (bench/deno_servers.ts: one batched WebSocket round trip to a
# replica process per GET, and nothing else), then our lone node and our 3-node cluster
# (load on one node, as in bench/throughput.sh). wrk -t1 -c32; ROUNDS alternating rounds of
# DURATION seconds, medians shown, each as a share of the bare hello.
#
#   bash bench/deno_ceilings.sh          ROUNDS=5 DURATION=5 bash bench/deno_ceilings.sh
set -euo pipefail
cd "$(dirname "$0")/.."
DURATION=${DURATION:-4}
ROUNDS=${ROUNDS:-3}
DENO="node_modules/.bin/deno run -A"
. bench/common.sh
PIDS=()
cleanup() { for p in "${PIDS[@]:-}"; do kill "$p" 2>/dev/null || true; done; }
trap cleanup EXIT

base=19800
$DENO bench/deno_servers.ts hello $((base + 1)) & PIDS+=($!)
$DENO bench/deno_servers.ts async $((base + 2)) & PIDS+=($!)
$DENO bench/deno_servers.ts itty $((base + 3)) & PIDS+=($!)
$DENO bench/deno_servers.ts replica $((base + 4)) & PIDS+=($!)
wait_port $((base + 4))
$DENO bench/deno_servers.ts coordinator $((base + 5)) $((base + 4)) & PIDS+=($!)
$DENO mod.ts $((base + 6)) --log-level warn >/dev/null 2>&1 & PIDS+=($!)
$DENO mod.ts $((base + 7)) --log-level warn >/dev/null 2>&1 & PIDS+=($!)
for p in 1 2 3 5 6 7; do wait_port $((base + p)); done
$DENO mod.ts $((base + 8)) $((base + 7)) --log-level warn >/dev/null 2>&1 & PIDS+=($!)
$DENO mod.ts $((base + 9)) $((base + 7)) --log-level warn >/dev/null 2>&1 & PIDS+=($!)
wait_ring $((base + 7)) 3
value=$(head -c 100 /dev/zero | tr '\0' v)
for p in 6 7; do curl -s -X PUT --data-binary "$value" "http://127.0.0.1:$((base + p))/d/bench" >/dev/null; done

names=("bare hello" "async handler, 100-byte answer" "itty-router Router alone" "floor: one batched WebSocket round trip per GET" "our node, alone" "our 3-node cluster (N=3, R=2)")
ports=(1 2 3 5 6 7)
declare -A results
for round in $(seq 1 "$ROUNDS"); do
  for i in "${!ports[@]}"; do
    rps=$(wrk -t1 -c32 -d"${DURATION}s" "http://127.0.0.1:$((base + ${ports[$i]}))/d/bench" | awk '/Requests\/sec/ { printf "%.0f", $2 }')
    results[$i]="${results[$i]:-} $rps"
  done
done
hello=$(median ${results[0]})
printf "| Deno server | GET req/s (median of %s) | vs bare hello |\n|---|---|---|\n" "$ROUNDS"
for i in "${!ports[@]}"; do
  m=$(median ${results[$i]})
  printf "| %s | %s | %s |\n" "${names[$i]}" "$m" "$(awk -v a="$m" -v b="$hello" 'BEGIN { printf "%.0f%%", 100 * a / b }')"
done
