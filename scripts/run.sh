#!/usr/bin/env bash
# Builds Redline (installing what is missing) and serves the dashboard on a demo SQLite
# database, filled with sample traffic on its first start. Extra arguments go to `redline serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/bootstrap.sh
echo "==> Building (release)" >&2
./scripts/build.sh
exec ./target/release/redline serve --demo "$@"
