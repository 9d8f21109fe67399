import { defineConfig } from '@playwright/test';
import base from './playwright.config';
import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';

// Browsers against three nodes behind nginx (end2end/cluster.sh), on PostgreSQL and Redis.
if (!process.env.XIETONG_CLUSTER_PORT) {
  process.env.XIETONG_CLUSTER_PORT = execFileSync(process.execPath, [
    '-e',
    "const s=require('net').createServer();s.listen(0,'127.0.0.1',()=>{console.log(s.address().port);s.close()})",
  ]).toString().trim();
  process.env.XIETONG_CLUSTER_PIDS = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'xietong-cluster-')), 'pids');
}
const port = process.env.XIETONG_CLUSTER_PORT;
const baseURL = `http://127.0.0.1:${port}`;

export default defineConfig({
  ...base,
  testMatch: /cluster\.spec\.ts/,
  testIgnore: [],
  use: { ...base.use, baseURL },
  webServer: {
    command: `bash "${path.join(__dirname, 'cluster.sh')}" ${port} "${process.env.XIETONG_CLUSTER_PIDS}"`,
    url: `${baseURL}/login`,
    reuseExistingServer: false,
    timeout: 60_000,
    stdout: 'pipe',
    stderr: 'pipe',
  },
});
