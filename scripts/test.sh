#!/usr/bin/env bash
# The one test entry point (npm test; .ci/run calls exactly this): installs what the suite
# needs, builds, type-checks, lints, checks formatting, then runs unit, integration and
# conformance tests on the compiled output.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
[ -d node_modules ] || npm ci --ignore-scripts
npx tsc -p tsconfig.json
npx eslint src test bench testlib
npx prettier --check src test bench testlib >/dev/null || { npx prettier --check src test bench testlib; exit 1; }
# Unit tests beside the code, then the suites under test/. One file at a time: the
# integration suites start sandboxes and must not compete for the 2 cores.
node --test --test-concurrency=1 dist/src dist/test
