import { defineConfig } from '@playwright/test';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// One fresh server per run: a free port and an empty data directory, chosen once in the main
// process and handed to the workers through the environment.
if (!process.env.XIETONG_E2E_PORT) {
  process.env.XIETONG_E2E_PORT = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
  ]).toString().trim();
  process.env.XIETONG_E2E_DATA = fs.mkdtempSync(path.join(os.tmpdir(), 'xietong-e2e-'));
}
const port = process.env.XIETONG_E2E_PORT;
const root = path.resolve(__dirname, '..');
const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
const binary = process.env.XIETONG_BIN ?? path.join(targetDir, 'debug', 'xietong');
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  testDir: './tests',
  // The cluster spec runs with playwright.cluster.config.ts.
  testIgnore: /cluster\.spec\.ts/,
  timeout: 60_000,
  expect: { timeout: 10_000 },
  fullyParallel: false,
  workers: 1,
  retries: 0,
  reporter: [['list']],
  use: {
    baseURL,
    trace: 'retain-on-failure',
    launchOptions: {
      executablePath: process.env.CHROMIUM_PATH ?? '/usr/bin/chromium',
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-background-networking',
        '--disable-component-update',
        '--no-first-run',
        '--disable-sync',
        '--disable-quic',
      ],
    },
  },
  webServer: {
    command: `"${binary}" --bind 127.0.0.1:${port} --data-dir "${process.env.XIETONG_E2E_DATA}" --site-root "${path.join(root, 'target', 'site')}" --auth-rate 100000`,
    url: `${baseURL}/login`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
