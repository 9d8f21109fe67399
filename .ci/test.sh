#!/usr/bin/env bash
# Runs every test: protocol and store unit tests, server integration tests (real server, real
# WebSocket clients), then the browser tests (Playwright in headless Chromium).
set -euo pipefail
cd "$(dirname "$0")/.."
.ci/setup.sh --test
source .ci/env.sh

echo "==> unit and integration tests"
cargo test --locked --workspace

echo "==> the server integration tests again, on PostgreSQL"
XIETONG_TEST_BACKEND=postgres cargo test --locked -p xietong-server --test realtime --test access --test security --test contract --test im --test org --test files --test notices --test news --test forum --test mail

echo "==> building the site for the browser tests"
cargo leptos build --split

echo "==> browser tests"
cd end2end
npx playwright test

echo "==> browser tests through nginx in front of three nodes (PostgreSQL + Redis)"
npx playwright test -c playwright.cluster.config.ts
