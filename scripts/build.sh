#!/usr/bin/env bash
# Builds the release site without cargo-leptos, with the same steps and the same output layout:
# the server (target/release/redline, feature ssr), the library to WebAssembly (feature
# hydrate, profile wasm-release, its own target dir target/front as cargo-leptos keeps it),
# wasm-bindgen at the pinned version, wasm-opt -Oz, the stylesheet and the public files, all
# under target/site. The two cargo builds run side by side: each has serial stretches (a big
# crate, the final link) that leave a core idle.
set -euo pipefail
cd "$(dirname "$0")/.."

NAME=redline
SITE=target/site
PKG="$SITE/pkg"
# Compiled into the server (leptos reads it with option_env!): the hydration script then asks
# for pkg/redline.wasm, the name this script (and cargo-leptos) gives the file.
export LEPTOS_OUTPUT_NAME="$NAME"

say() { printf '\033[1m==> %s\033[0m\n' "$*" >&2; }

say "Building the server and the WebAssembly library (release)"
cargo build --release --bin "$NAME" --no-default-features --features ssr &
server=$!
cargo build --lib --target wasm32-unknown-unknown --target-dir target/front \
  --no-default-features --features hydrate --profile wasm-release &
front=$!
status=0
wait "$server" || status=$?
wait "$front" || status=$?
[ "$status" -eq 0 ] || { echo "build failed" >&2; exit "$status"; }

say "Generating the JavaScript glue (wasm-bindgen) and optimizing the WebAssembly (wasm-opt)"
mkdir -p "$PKG"
wasm-bindgen --target web --no-typescript --out-name "$NAME" --out-dir "$PKG" \
  "target/front/wasm32-unknown-unknown/wasm-release/$NAME.wasm"
mv "$PKG/${NAME}_bg.wasm" "$PKG/$NAME.wasm"
wasm-opt -Oz --enable-bulk-memory "$PKG/$NAME.wasm" -o "$PKG/$NAME.wasm"

say "Copying the stylesheet and the public files"
cp style/main.css "$PKG/$NAME.css"
cp -R public/. "$SITE/"
