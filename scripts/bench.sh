#!/usr/bin/env bash
# Builds the release binary with the benchmark harness (the `bench` feature; the server that
# run.sh builds leaves it out) and runs it; results go to bench/RESULTS.md.
# Arguments go to `redline bench` (e.g. --calls 100000 for a quick run).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
LEPTOS_OUTPUT_NAME=redline cargo build --release --bin redline --no-default-features --features bench
exec ./target/release/redline bench "$@"
