#!/usr/bin/env bash
# Builds Xietong (release), the load harness and the two baselines, then runs every scenario
# against all three servers and prints one table. Extra arguments go to xietong-bench
# (see `xietong-bench --help`), e.g. `make bench ARGS="--seconds 10"`.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup.sh
source .ci/env.sh

echo "==> building Xietong (release) and the harness"
cargo leptos build --release --split
cargo build --release --locked -p xietong-bench

echo "==> installing the Node.js baseline (npm ws)"
(cd server/bench/baselines/node-ws && { [[ -d node_modules/ws ]] || npm ci --no-audit --no-fund; })

exec "$CARGO_TARGET_DIR/release/xietong-bench" \
  --xietong-bin "$CARGO_TARGET_DIR/release/xietong" \
  --bare-bin "$CARGO_TARGET_DIR/release/bare-broadcast" \
  --node-dir server/bench/baselines/node-ws \
  --site-root target/site \
  --out target/bench \
  "$@"
