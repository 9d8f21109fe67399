# Shared settings for the set-up, run and test scripts (sourced, not run).
# Build output and installed tools live outside the clone so that a fresh clone builds warm.
export XIETONG_CACHE="${XIETONG_CACHE:-$HOME/.cache/xietong}"
export CARGO_TARGET_DIR="${CARGO_TARGET_DIR:-$XIETONG_CACHE/target}"
export PATH="$HOME/.cargo/bin:$XIETONG_CACHE/tools/node_modules/.bin:$PATH"
