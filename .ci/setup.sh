#!/usr/bin/env bash
# Installs what building and testing Xietong needs, skipping whatever is already there.
#   .ci/setup.sh          tools to build and run (wasm target, cargo-leptos, wasm-bindgen, wasm-opt)
#   .ci/setup.sh --test   also the browser-test tools (npm packages, Chromium, a CJK font)
set -euo pipefail
cd "$(dirname "$0")/.."
source .ci/env.sh

say() { printf '\033[1;34m==>\033[0m %s\n' "$*"; }
need() { command -v "$1" >/dev/null 2>&1 || { echo "error: '$1' is required but not installed. $2" >&2; exit 1; }; }

need cargo "Install Rust from https://rustup.rs"
need rustup "Install Rust from https://rustup.rs"

if ! rustup target list --installed | grep -qx wasm32-unknown-unknown; then
  say "adding the wasm32-unknown-unknown target"
  rustup target add wasm32-unknown-unknown
fi

# cargo-leptos 0.3.10: the newest release that builds on stable rustc 1.95. Its own release
# profile (fat LTO, 1 codegen unit) only slows the install down.
if [[ "$(cargo leptos --version 2>/dev/null)" != "cargo-leptos 0.3.10" ]]; then
  say "installing cargo-leptos 0.3.10 (one time, ~20 min on 2 cores)"
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install cargo-leptos --locked --version 0.3.10
fi

# wasm-bindgen-cli must equal the wasm-bindgen in Cargo.lock exactly.
bindgen_version=$(awk '/^name = "wasm-bindgen"$/ { getline; gsub(/version = |"/, ""); print; exit }' Cargo.lock)
if [[ "$(wasm-bindgen --version 2>/dev/null)" != "wasm-bindgen $bindgen_version" ]]; then
  say "installing wasm-bindgen-cli $bindgen_version (one time, ~7 min)"
  # Not --locked: its lockfile names a webpki-roots the registry no longer serves.
  CARGO_PROFILE_RELEASE_LTO=false CARGO_PROFILE_RELEASE_CODEGEN_UNITS=16 \
    cargo install wasm-bindgen-cli --version "$bindgen_version"
fi

need node "Install Node.js 20 or newer."
need npm "Install Node.js 20 or newer (npm comes with it)."
node_major=$(node -p 'process.versions.node.split(".")[0]')
if (( node_major < 20 )); then
  echo "error: Node.js $(node --version) is too old; 20 or newer is needed." >&2
  exit 1
fi

# wasm-opt for release builds, from npm (Debian's binaryen is too old).
if ! wasm-opt --version 2>/dev/null | grep -q "version 132"; then
  say "installing wasm-opt (npm binaryen@132)"
  mkdir -p "$XIETONG_CACHE/tools"
  npm install --silent --no-audit --no-fund --prefix "$XIETONG_CACHE/tools" binaryen@132
fi

if [[ "${1:-}" == "--test" ]]; then
  if [[ ! -d end2end/node_modules/@playwright/test ]] || [[ end2end/package-lock.json -nt end2end/node_modules/.package-lock.json ]]; then
    say "installing the browser-test npm packages"
    (cd end2end && npm ci --no-audit --no-fund)
  fi
  missing=()
  [[ -x /usr/bin/chromium ]] || missing+=(chromium)
  command -v pg_isready >/dev/null 2>&1 || missing+=(postgresql)
  command -v redis-server >/dev/null 2>&1 || missing+=(redis-server)
  command -v nginx >/dev/null 2>&1 || missing+=(nginx)
  # moto's S3 server (for the S3 store tests) goes into a virtual environment.
  python3 -m venv --help >/dev/null 2>&1 || missing+=(python3 python3-venv)
  # Any CJK font will do; without one Chinese text renders as boxes in screenshots.
  { dpkg -s fonts-noto-cjk || dpkg -s fonts-wqy-zenhei || fc-list :lang=zh | grep -q .; } >/dev/null 2>&1 \
    || missing+=(fonts-noto-cjk)
  if (( ${#missing[@]} )); then
    say "installing ${missing[*]} (Debian packages)"
    sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
    $sudo_cmd apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo_cmd apt-get install -y -qq "${missing[@]}"
  fi
fi

if [[ "${1:-}" == "--test" ]] && [[ ! -x "$XIETONG_CACHE/tools/moto/bin/moto_server" ]]; then
  say "installing moto[server] 5.2.5 (an S3-compatible server for the tests, from PyPI)"
  rm -rf "$XIETONG_CACHE/tools/moto"
  python3 -m venv "$XIETONG_CACHE/tools/moto"
  "$XIETONG_CACHE/tools/moto/bin/pip" install --quiet --disable-pip-version-check 'moto[server]==5.2.5'
fi
if [[ "${1:-}" == "--test" ]] && [[ ! -x "$XIETONG_CACHE/tools/moto/bin/aiosmtpd" ]]; then
  say "installing aiosmtpd 1.4.6 (a real SMTP server for the delivery tests, from PyPI)"
  "$XIETONG_CACHE/tools/moto/bin/pip" install --quiet --disable-pip-version-check 'aiosmtpd==1.4.6'
fi

if [[ "${1:-}" == "--test" ]]; then
  # The store tests also run on PostgreSQL (XIETONG_TEST_POSTGRES, default below).
  pg_url="${XIETONG_TEST_POSTGRES:-postgres://postgres@127.0.0.1:5432/postgres}"
  if ! pg_isready -q -h 127.0.0.1 -p 5432 && [[ -z "${XIETONG_TEST_POSTGRES:-}" ]]; then
    say "starting the local PostgreSQL cluster"
    sudo_cmd=""
    [[ $(id -u) -eq 0 ]] || sudo_cmd="sudo"
    $sudo_cmd pg_ctlcluster --skip-systemctl-redirect "$(ls /etc/postgresql | tail -n 1)" main start || true
  fi
  if ! psql "$pg_url" -qAtc 'select 1' >/dev/null 2>&1; then
    echo "error: the tests need PostgreSQL at $pg_url (a user allowed to create databases)." >&2
    echo "       Start one (Debian: apt-get install postgresql; pg_ctlcluster 15 main start) and allow" >&2
    echo "       local connections, or point XIETONG_TEST_POSTGRES at one, e.g." >&2
    echo "       XIETONG_TEST_POSTGRES=postgres://user:password@127.0.0.1:5432/postgres make test" >&2
    exit 1
  fi
fi

if [[ "${1:-}" == "--test" ]]; then
  # The cluster tests use Redis (XIETONG_TEST_REDIS, default below) next to PostgreSQL.
  if [[ -z "${XIETONG_TEST_REDIS:-}" ]] && ! redis-cli -h 127.0.0.1 -p 6379 ping >/dev/null 2>&1; then
    say "starting a local Redis on 127.0.0.1:6379"
    redis-server --daemonize yes --bind 127.0.0.1 --port 6379 --save "" --appendonly no >/dev/null || true
    sleep 0.5
  fi
  redis_url="${XIETONG_TEST_REDIS:-redis://127.0.0.1:6379}"
  if ! redis-cli -u "$redis_url" ping >/dev/null 2>&1; then
    echo "error: the tests need Redis at $redis_url (Debian: apt-get install redis-server)," >&2
    echo "       or point XIETONG_TEST_REDIS at one." >&2
    exit 1
  fi
fi
