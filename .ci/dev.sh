#!/usr/bin/env bash
# Runs the workspace on http://127.0.0.1:3000 with the embedded database (./data), rebuilding
# and reloading on every change.
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup.sh
source .ci/env.sh
exec cargo leptos watch --split
