#!/usr/bin/env bash
# Runs every test: unit, store and HTTP tests, then the Playwright suite in Chromium against
# the release build. Installs what is missing first.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh browser

echo "==> Rust tests (unit, store, HTTP)" >&2
cargo test --features ssr

echo "==> Building the release app for the browser tests" >&2
cargo leptos build --release

echo "==> Browser tests (Playwright, Debian Chromium)" >&2
cd end2end
npx playwright test
