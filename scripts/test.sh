#!/usr/bin/env bash
# Runs every test: unit tests; the store, HTTP, backend and instance tests on SQLite and again
# on PostgreSQL; then the Playwright suite in Chromium against the release build. Installs
# what is missing first. PostgreSQL must answer (REDLINE_TEST_POSTGRES_URL, default
# postgres://postgres@127.0.0.1:5432/test): the run stops with instructions when it does not.
set -euo pipefail
cd "$(dirname "$0")/.."

export REDLINE_TEST_POSTGRES_URL="${REDLINE_TEST_POSTGRES_URL:-postgres://postgres@127.0.0.1:5432/test}"
./scripts/check-postgres.sh "$REDLINE_TEST_POSTGRES_URL"

source scripts/bootstrap.sh browser

# A one-off run gains nothing from incremental state, which grows by gigabytes per rebuild.
export CARGO_INCREMENTAL=0

echo "==> Rust tests on SQLite (unit, store, HTTP, backends, instances)" >&2
# `bench` includes `ssr` and builds the benchmark harness too, so it cannot rot unseen.
REDLINE_TEST_BACKEND=sqlite cargo test --features bench

echo "==> The same store, HTTP, backend and instance tests on PostgreSQL" >&2
REDLINE_TEST_BACKEND=postgres cargo test --features bench --test '*'

echo "==> Building the release app for the browser tests" >&2
./scripts/build.sh

echo "==> Browser tests (Playwright, Debian Chromium)" >&2
cd end2end
npx playwright test
