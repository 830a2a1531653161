#!/usr/bin/env bash
# The seeded simulations over many seeds, where `npm test` runs each over a fixed few:
#   bash scripts/seeds.sh                                   every tests/sim file, seeds 1000-1019
#   bash scripts/seeds.sh tests/sim/membership.test.ts 500 60 "10% message loss"
# Arguments: the test files (a glob in quotes, or one file), the first seed, how many, and
# a test name pattern. Each seed is one run with SEED=n (tests with a fixed seed run as
# they are); a line per seed, then the seeds that failed. Exit 1 when any did; replay one
# with `SEED=n node --import tsx --test FILE`.
set -uo pipefail
cd "$(dirname "$0")/.."
files="${1:-tests/sim/*.test.ts}"
first="${2:-1000}"
count="${3:-20}"
pattern="${4:-}"
failed=()
for seed in $(seq "$first" $((first + count - 1))); do
  # shellcheck disable=SC2086 # the files argument may be a glob
  out=$(SEED=$seed node --import tsx --test --test-concurrency=1 ${pattern:+--test-name-pattern="$pattern"} $files 2>&1)
  fails=$(grep -E "^not ok" <<<"$out" | sed 's/^not ok [0-9]* - //')
  if [ -n "$fails" ]; then
    failed+=("$seed")
    echo "seed $seed: FAILED"
    sed 's/^/  /' <<<"$fails"
  else
    echo "seed $seed: ok ($(grep -E '^# pass' <<<"$out" | cut -d' ' -f3) passed)"
  fi
done
if [ ${#failed[@]} -gt 0 ]; then
  echo "failed: ${failed[*]}"
  exit 1
fi
echo "every seed passed"
