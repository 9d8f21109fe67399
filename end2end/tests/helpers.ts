import { expect, type Browser, type BrowserContext, type Page, type WebSocketRoute } from '@playwright/test';

/**
 * Every user's browser context is closed when its test ends (each spec calls
 * `test.afterEach(closeUsers)`): pages left open would stay signed in, live on the socket and
 * on `general`, and slow every later test down.
 */
const openContexts: BrowserContext[] = [];
/** Hydration failures and WASM panics seen on any user's page during the current test. */
const pageFailures: string[] = [];
export async function closeUsers(): Promise<void> {
  for (const context of openContexts.splice(0)) await context.close();
  const failures = pageFailures.splice(0);
  // A page that failed to hydrate may still pass a test's own checks (a later client-side
  // navigation renders afresh); it is a failure all the same.
  expect(failures, 'hydration errors or panics in the browser').toEqual([]);
}

/** Records a page's hydration errors and panics, for `closeUsers` to report. */
export function watchForFailures(page: Page): void {
  page.on('pageerror', (e) => pageFailures.push(`${page.url()}: ${e.message}`));
  page.on('console', (m) => {
    if (m.type() === 'error' && /hydration error|panicked/i.test(m.text())) {
      pageFailures.push(`${page.url()}: ${m.text().slice(0, 500)}`);
    }
  });
}

let counter = 0;

/** A username nobody has used in this run. */
export function uniqueName(prefix: string): string {
  counter += 1;
  return `${prefix}${Date.now().toString(36)}${counter}`;
}

export const PASSWORD = 'correct horse battery';

/** Signs up through the UI and waits for the live connection. */
export async function signUp(page: Page, username: string): Promise<void> {
  await page.goto('/signup');
  await page.getByLabel('Username').fill(username);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('log', { name: 'Messages' })).toBeVisible();
  await expect(page.getByRole('status')).toHaveText('Connected');
}

/** A new browser context (its own cookies) with a signed-up user on the workspace. */
export async function newUser(browser: Browser, prefix: string, setup?: (page: Page) => Promise<void>) {
  const context = await browser.newContext();
  openContexts.push(context);
  context.on('page', watchForFailures);
  const page = await context.newPage();
  if (setup) await setup(page);
  const name = uniqueName(prefix);
  await signUp(page, name);
  return { context, page, name };
}

export async function send(page: Page, text: string): Promise<void> {
  const box = page.getByRole('textbox', { name: 'Message' });
  await box.fill(text);
  await box.press('Enter');
  await expect(box).toHaveValue('');
}

export function messages(page: Page) {
  return page.getByRole('log', { name: 'Messages' }).locator('article.message:not(.pending) .body');
}

/**
 * Puts the page's WebSocket behind a switch: `cut()` drops the live connection and refuses new
 * ones (as a lost network would), `restore()` lets the client's own reconnect through again.
 */
export async function switchableSocket(page: Page) {
  let online = true;
  const live: { page: WebSocketRoute; server: WebSocketRoute }[] = [];
  await page.routeWebSocket(/\/ws$/, (ws) => {
    if (!online) {
      ws.close({ code: 4999, reason: 'network down (test)' });
      return;
    }
    const server = ws.connectToServer();
    live.push({ page: ws, server });
  });
  return {
    async cut() {
      online = false;
      for (const conn of live.splice(0)) {
        await conn.server.close({ code: 1000 }).catch(() => {});
        await conn.page.close({ code: 4999, reason: 'network down (test)' }).catch(() => {});
      }
    },
    restore() {
      online = true;
    },
  };
}

/**
 * An administrator: created with the binary's `admin create` on the test server's data
 * directory (as an operator would), then logged in through the UI.
 */
export async function newAdmin(browser: Browser) {
  const { execFileSync } = await import('node:child_process');
  const path = await import('node:path');
  const root = path.resolve(__dirname, '..', '..');
  const targetDir = process.env.CARGO_TARGET_DIR ?? path.join(root, 'target');
  const binary = process.env.XIETONG_BIN ?? path.join(targetDir, 'debug', 'xietong');
  const name = uniqueName('admin');
  execFileSync(binary, ['--data-dir', process.env.XIETONG_E2E_DATA ?? '', 'admin', 'create', name], {
    input: `${PASSWORD}\n`,
  });
  const context = await browser.newContext();
  openContexts.push(context);
  context.on('page', watchForFailures);
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('status')).toHaveText('Connected');
  return { context, page, name };
}

/** A small RGB PNG, made here. */
export async function png(width: number, height: number): Promise<Buffer> {
  const zlib = await import('node:zlib');
  const rows: Buffer[] = [];
  for (let y = 0; y < height; y++) {
    const row = Buffer.alloc(1 + width * 3);
    for (let x = 0; x < width; x++) row.set([(x * 6) & 0xff, (y * 8) & 0xff, 128], 1 + x * 3);
    rows.push(row);
  }
  const chunk = (type: string, data: Buffer) => {
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const out = Buffer.alloc(12 + data.length);
    out.writeUInt32BE(data.length, 0);
    body.copy(out, 4);
    out.writeUInt32BE(zlib.crc32(body) >>> 0, 8 + data.length);
    return out;
  };
  const header = Buffer.alloc(13);
  header.writeUInt32BE(width, 0);
  header.writeUInt32BE(height, 4);
  header.set([8, 2, 0, 0, 0], 8);
  return Buffer.concat([
    Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]),
    chunk('IHDR', header),
    chunk('IDAT', zlib.deflateSync(Buffer.concat(rows))),
    chunk('IEND', Buffer.alloc(0)),
  ]);
}
