#!/usr/bin/env bash
# Where a request's time goes, per process: the CPU each node spends per request (user and
# system µs, from /proc/PID/stat) while wrk loads the first node, beside the requests a
# second. Throughput alone hides this: on two shared cores a process that costs more per
# request also slows wrk and the others. Linux only.
#
#   bash bench/request_cpu.sh                      # Bun, 3 nodes, GET
#   RUNTIME=node NODES=1 OP=PUT bash bench/request_cpu.sh
#
# Lines: `rps N | first: user U sys S | second: ... | third: ...` (µs per request), then
# the replica batch size the first node saw (messages per batch, 3 nodes only).
set -euo pipefail
cd "$(dirname "$0")/.."
RUNTIME=${RUNTIME:-bun}
NODES=${NODES:-3}
OP=${OP:-GET}
DURATION=${DURATION:-5}
CONNECTIONS=${CONNECTIONS:-32}
PORT=${PORT:-19400}
. bench/common.sh

run=$(runtime_command "$RUNTIME") || { echo "RUNTIME must be node, bun or deno: received $RUNTIME" >&2; exit 2; }
case $OP in GET | PUT) ;; *) echo "OP must be GET or PUT: received $OP" >&2; exit 2 ;; esac

PIDS=()
# Waits for the nodes to finish leaving, so that the next run finds its ports free.
cleanup() {
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && kill "$p" 2>/dev/null || true; done
  for p in "${PIDS[@]:-}"; do [ -n "$p" ] && wait "$p" 2>/dev/null || true; done
}
trap cleanup EXIT

for i in $(seq 0 $((NODES - 1))); do
  if [ -n "$(ss -Hltn "sport = :$((PORT + i))" 2>/dev/null)" ]; then
    echo "port $((PORT + i)) is in use: stop what listens there, or set PORT" >&2; exit 1
  fi
done

# The process that serves a port: tsx and some wrappers start the runtime as a child.
server_pid() { # port
  local pid
  for _ in $(seq 1 50); do
    pid=$(ss -Hltnp "sport = :$1" 2>/dev/null | grep -o 'pid=[0-9]*' | head -1 | cut -d= -f2)
    [ -n "$pid" ] && { echo "$pid"; return 0; }
    sleep 0.1
  done
  echo "no process listens on $1" >&2; return 1
}

for i in $(seq 0 $((NODES - 1))); do
  if [ "$i" = 0 ]; then $run mod.ts "$PORT" --log-level warn >/dev/null 2>&1 & PIDS+=($!)
  else $run mod.ts $((PORT + i)) "$PORT" --log-level warn >/dev/null 2>&1 & PIDS+=($!); fi
  wait_port $((PORT + i))
done
[ "$NODES" -gt 1 ] && wait_ring "$PORT" "$NODES"
curl -s -X PUT --data-binary "$(head -c 100 /dev/zero | tr '\0' v)" "http://127.0.0.1:$PORT/d/bench" >/dev/null

servers=()
for i in $(seq 0 $((NODES - 1))); do servers+=("$(server_pid $((PORT + i)))"); done
ticks() { awk '{ print $14, $15 }' "/proc/$1/stat"; }
declare -A before
for p in "${servers[@]}"; do before[$p]=$(ticks "$p"); done

if [ "$OP" = PUT ]; then out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" -s bench/put.lua "http://127.0.0.1:$PORT")
else out=$(wrk -t1 -c"$CONNECTIONS" -d"${DURATION}s" "http://127.0.0.1:$PORT/d/bench"); fi
requests=$(echo "$out" | awk '/requests in/ { print $1 }')
hz=$(getconf CLK_TCK)

line="rps $(echo "$out" | awk '/Requests\/sec/ { printf "%.0f", $2 }')"
names=(first second third fourth fifth sixth)
for i in "${!servers[@]}"; do
  read -r u0 s0 <<<"${before[${servers[$i]}]}"
  read -r u1 s1 < <(ticks "${servers[$i]}")
  line+=$(awk -v n="${names[$i]:-node$i}" -v u=$((u1 - u0)) -v s=$((s1 - s0)) -v r="$requests" -v hz="$hz" \
    'BEGIN { printf " | %s: user %.2f sys %.2f", n, u * 1e6 / hz / r, s * 1e6 / hz / r }')
done
echo "$RUNTIME, $NODES node(s), $OP: $line"
if [ "$NODES" -gt 1 ]; then
  curl -s "http://127.0.0.1:$PORT/metrics" | awk '/^dht_replica_batch_messages_sum/ { s = $2 } /^dht_replica_batch_messages_count/ { n = $2 }
    END { if (n > 0) printf "messages per replica batch on the first node: %.1f\n", s / n }'
fi
