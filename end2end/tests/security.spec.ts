import { expect, test } from '@playwright/test';
import { closeUsers, messages, send, signUp, uniqueName } from './helpers';

test.afterEach(closeUsers);

test('the app works under its Content-Security-Policy, with no violation', async ({ page }) => {
  const violations: string[] = [];
  page.on('console', (msg) => {
    if (/Content Security Policy|Refused to/i.test(msg.text())) violations.push(msg.text());
  });
  const response = await page.goto('/login');
  const csp = response!.headers()['content-security-policy'];
  expect(csp).toContain("script-src 'self' 'nonce-");
  expect(csp).toContain("frame-ancestors 'none'");
  await signUp(page, uniqueName('csp'));
  const text = `under CSP ${Date.now()}`;
  await send(page, text);
  await expect(messages(page).filter({ hasText: text })).toHaveCount(1);
  await page.reload();
  await expect(page.getByRole('status')).toHaveText('Connected');
  expect(violations).toEqual([]);
});

test('a log-in posted before the page’s code runs shows its error on the page, not raw JSON', async ({ browser }) => {
  const context = await browser.newContext({ javaScriptEnabled: false });
  try {
    const page = await context.newPage();
    await page.goto('/login');
    await page.getByLabel('Username').fill('nobody-here');
    await page.getByLabel('Password').fill('not the password');
    await page.getByRole('button', { name: 'Log in' }).click();
    await expect(page).toHaveURL(/\/login\?error=/);
    await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
  } finally {
    await context.close();
  }
});
