# Shell helpers shared by the wrk benchmarks (sourced, not run).

# The command that runs a TypeScript file on a runtime (node through tsx, bun, deno); fails on another name.
runtime_command() { # runtime
  case $1 in
    node) echo "node_modules/.bin/tsx" ;;
    bun) echo "node_modules/.bin/bun run" ;;
    deno) echo "node_modules/.bin/deno run -A" ;;
    *) return 1 ;;
  esac
}

# Waits until something answers HTTP on 127.0.0.1:port (up to 10 s).
wait_port() {
  for _ in $(seq 1 200); do
    curl -s -o /dev/null "http://127.0.0.1:$1/" && return 0
    sleep 0.05
  done
  echo "nothing listening on $1" >&2; return 1
}

# Waits until the node on port has `count` members on its ring (up to 10 s), then 1 s more.
wait_ring() { # port count
  for _ in $(seq 1 100); do
    members=$(curl -s "http://127.0.0.1:$1/cluster/ring" | grep -o '"members":\[[^]]*\]' | grep -o '127.0.0.1' | wc -l)
    [ "$members" = "$2" ] && break
    sleep 0.1
  done
  sleep 1
}

# The median line of its arguments, ordered by their first number.
median() { printf '%s\n' "$@" | sort -n | awk '{ v[NR] = $0 } END { print v[int((NR + 1) / 2)] }'; }
