#!/usr/bin/env bash
# The fuzz suite (tests/unit/fuzz.test.ts, tests/sim/fuzz.test.ts) at length, under Node:
#   bash scripts/fuzz.sh                 20,000 cases a property, a fresh seed
#   FUZZ_RUNS=500 FUZZ_SEED=7 bash scripts/fuzz.sh
# npm test runs the same properties with 150 cases and a fixed seed. A failure prints the
# seed and the shrunk case; run again with that FUZZ_SEED to reproduce it.
set -euo pipefail
cd "$(dirname "$0")/.."
export FUZZ_RUNS="${FUZZ_RUNS:-20000}"
export FUZZ_SEED="${FUZZ_SEED:-$RANDOM$RANDOM}"
echo "fuzz: ${FUZZ_RUNS} cases a property, FUZZ_SEED=${FUZZ_SEED}"
exec node --import tsx --test --test-reporter=spec tests/unit/fuzz.test.ts tests/sim/fuzz.test.ts
