#!/usr/bin/env bash
# Builds the release binary and runs the benchmark harness; results go to bench/RESULTS.md.
# Arguments go to `redline bench` (e.g. --calls 100000 for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
./scripts/build.sh
exec ./target/release/redline bench "$@"
