#!/usr/bin/env bash
# Installs what building and testing Redline needs, from the package registries only, and only
# what is missing. Sourced by run.sh, test.sh and bench.sh. Pass "browser" (the tests) to also
# install Chromium, the Playwright test runner and the Python tools some tests run (moto's S3
# server, the OpenTelemetry clients, Hugging Face's loaders).
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
BINARYEN_VERSION="132.0.0"
MOTO_VERSION="5.2.6"
# Hugging Face's loaders, as open trainers read training files (tests/trainers/load_export.py);
# no PyTorch: datasets and the tokenizer's chat template are all the test needs.
TRAINERS_VERSION="1"
TRAINERS="datasets==3.6.0 transformers==4.52.4 jinja2==3.1.6"
# The OpenTelemetry Python clients of the OTLP ingest test; bump OTEL_CLIENTS_VERSION with them.
OTEL_CLIENTS_VERSION="1"
OTEL_CLIENTS="opentelemetry-sdk==1.45.2 opentelemetry-exporter-otlp-proto-http==1.45.2
  opentelemetry-instrumentation-openai-v2==2.4b0 opentelemetry-util-genai==0.4b0
  openinference-instrumentation-openai==0.1.66 opentelemetry-instrumentation-openai==0.62.4
  openai==3.63.0 httpx==0.29.0"
# wasm-bindgen-cli must equal the wasm-bindgen crate in Cargo.lock exactly.
WASM_BINDGEN_VERSION="$(grep -A1 '^name = "wasm-bindgen"$' "$ROOT/Cargo.lock" | sed -n 's/^version = "\(.*\)"/\1/p')"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "Adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# No cargo-leptos: scripts/build.sh builds the site with the same steps (installing it took
# 12 to 21 minutes of a first run). It stays the tool for `cargo leptos watch` in development.

if ! wasm-bindgen --version 2>/dev/null | grep -q "$WASM_BINDGEN_VERSION"; then
  say "Installing wasm-bindgen-cli $WASM_BINDGEN_VERSION (about 2 minutes, once)"
  cargo install wasm-bindgen-cli --version "$WASM_BINDGEN_VERSION" --locked --force
fi

# Release builds run wasm-opt; npm's binaryen works where older distribution builds break
# hydration, so it goes first on PATH.
if [ ! -x "$ROOT/tools/node_modules/.bin/wasm-opt" ]; then
  say "Installing wasm-opt (npm binaryen@$BINARYEN_VERSION) into tools/"
  mkdir -p "$ROOT/tools"
  [ -f "$ROOT/tools/package.json" ] || echo '{"private": true}' > "$ROOT/tools/package.json"
  npm install --prefix "$ROOT/tools" --no-audit --no-fund "binaryen@$BINARYEN_VERSION" >&2
fi
export PATH="$ROOT/tools/node_modules/.bin:$PATH"

if [ "${1:-}" = "browser" ]; then
  if [ ! -x /usr/bin/chromium ]; then
    say "Installing Chromium from Debian's packages"
    SUDO=""
    [ "$(id -u)" -eq 0 ] || SUDO="sudo"
    $SUDO apt-get update
    $SUDO apt-get install -y chromium
  fi
  # The S3 export test runs against moto's S3 server mode, from PyPI, in a venv of its own.
  if [ ! -x "$ROOT/tools/venv/bin/moto_server" ]; then
    say "Installing moto's S3 server (PyPI) into tools/venv for the S3 export test"
    python3 -m venv "$ROOT/tools/venv"
    "$ROOT/tools/venv/bin/pip" install --quiet --disable-pip-version-check "moto[server]==$MOTO_VERSION" >&2
  fi
  # A venv of pinned PyPI packages under tools/, (re)made when its version marker is missing:
  # python_tools DIR VERSION WHAT PACKAGES...
  python_tools() {
    local dir="$ROOT/tools/$1" version="$2" what="$3"
    shift 3
    if [ ! -f "$dir/.installed-$version" ]; then
      say "Installing $what (PyPI) into tools/$(basename "$dir")"
      rm -rf "$dir"
      python3 -m venv "$dir"
      "$dir/bin/pip" install --quiet --disable-pip-version-check "$@" >&2
      touch "$dir/.installed-$version"
    fi
  }
  # The OTLP ingest test runs the real openai client with three real instrumentations and the
  # SDK's OTLP/HTTP exporter (tests/otlp_clients.rs). The pins install together: the official
  # instrumentation fails to import with newer opentelemetry-util-genai releases.
  # shellcheck disable=SC2086 # the package lists are word lists
  python_tools otel-venv "$OTEL_CLIENTS_VERSION" "the OpenTelemetry Python clients for the OTLP test" $OTEL_CLIENTS
  # The export test that loads the training files with Hugging Face datasets and renders them
  # through transformers' chat templating, as TRL does (tests/exports.rs).
  # shellcheck disable=SC2086
  python_tools trainers-venv "$TRAINERS_VERSION" "Hugging Face datasets and transformers for the export loader test" $TRAINERS
  if [ ! -d "$ROOT/end2end/node_modules/@playwright/test" ]; then
    say "Installing the Playwright test runner (no browser download)"
    (cd "$ROOT/end2end" && PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund >&2)
  fi
fi
