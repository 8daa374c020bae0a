#!/usr/bin/env bash
# The test suite: first the static checks — every file of src/, test/ and bench/ type-checks, and the layers of
# docs/architecture.md hold (dependency-cruiser) — then node's test runner: unit tests (pure) and integration
# tests (root, network namespaces the tests create and remove). `scripts/test.sh unit` runs only the unit tests.
set -euo pipefail
cd "$(dirname "$0")/.."
echo "test: type-check (src, test, bench)" >&2
npx tsc -p tsconfig.check.json
echo "test: dependency rules (.dependency-cruiser.cjs)" >&2
npx depcruise --config .dependency-cruiser.cjs --output-type err-long src bench
shopt -s nullglob globstar
files=(test/unit/**/*.test.ts)
if [ "${1:-all}" != unit ]; then
  if [ "$(id -u)" = 0 ]; then
    files+=(test/integration/**/*.test.ts)
  else
    echo "test: integration tests need root (network namespaces); running unit tests only" >&2
  fi
fi
exec node --test --import tsx --test-concurrency="${TEST_CONCURRENCY:-2}" --test-reporter=spec "${files[@]}"
