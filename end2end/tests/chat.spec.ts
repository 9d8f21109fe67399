import { expect, test } from '@playwright/test';
import { PASSWORD, closeUsers, messages, newUser, send, signUp, switchableSocket, uniqueName } from './helpers';

test.afterEach(closeUsers);

test('a message appears for the other user live, and survives a reload', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const text = `你好，${b.name}! live ${Date.now()}`;
  await send(a.page, text);
  await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
  // Author and time are shown.
  const item = b.page.getByRole('log', { name: 'Messages' }).locator('article', { hasText: text });
  await expect(item.locator('.author')).toHaveText(a.name);
  await expect(item.locator('time')).toHaveText(/^\d\d:\d\d$/);
  await b.page.reload();
  await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
  await expect(b.page.getByRole('status')).toHaveText('Connected');
});

test('a dropped connection shows Reconnecting… and then every missed message once, in order', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  let socket!: Awaited<ReturnType<typeof switchableSocket>>;
  const b = await newUser(browser, 'b', async (page) => {
    socket = await switchableSocket(page);
  });
  const before = `before drop ${Date.now()}`;
  await send(a.page, before);
  await expect(messages(b.page).filter({ hasText: before })).toHaveCount(1);

  await socket.cut();
  await expect(b.page.getByRole('status')).toHaveText('Reconnecting…');
  const missed = [1, 2, 3].map((i) => `missed ${i} ${Date.now()}`);
  for (const text of missed) await send(a.page, text);
  // A has them all stored before B comes back.
  for (const text of missed) await expect(messages(a.page).filter({ hasText: text })).toHaveCount(1);
  // B writes meanwhile: the message waits in B's log as "Sending…" and goes when B is back.
  const queued = `queued ${Date.now()}`;
  await send(b.page, queued);
  const waiting = b.page.getByRole('log', { name: 'Messages' }).locator('article.pending', { hasText: queued });
  await expect(waiting.locator('.sending')).toHaveText('Sending…');
  await expect(waiting).toHaveAttribute('aria-busy', 'true');

  socket.restore();
  await expect(b.page.getByRole('status')).toHaveText('Connected', { timeout: 15_000 });
  for (const text of missed) await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
  await expect(waiting).toHaveCount(0);
  await expect(messages(b.page).filter({ hasText: queued })).toHaveCount(1);
  await expect(messages(a.page).filter({ hasText: queued })).toHaveCount(1);
  const all = await messages(b.page).allTextContents();
  const positions = [before, ...missed].map((t) => all.indexOf(t));
  expect(positions.every((p) => p >= 0)).toBe(true);
  expect([...positions].sort((x, y) => x - y)).toEqual(positions);
  expect(all.length).toBe(new Set(all).size);
});

test('HTML and script in a message are shown as text and never run', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  let dialogs = 0;
  b.page.on('dialog', (d) => { dialogs += 1; void d.dismiss(); });
  const evil = `<img src=x onerror="window.__pwned=1;alert(1)"><script>window.__pwned=2</script><b>bold</b> ${Date.now()}`;
  await send(a.page, evil);
  await expect(messages(b.page).filter({ hasText: evil })).toHaveCount(1);
  await expect(messages(b.page).last()).toHaveText(evil);
  await b.page.reload();
  await expect(messages(b.page).last()).toHaveText(evil);
  expect(await b.page.evaluate(() => (window as any).__pwned)).toBeUndefined();
  await expect(b.page.getByRole('log', { name: 'Messages' }).locator('img, b, script')).toHaveCount(0);
  expect(dialogs).toBe(0);
});

test('presence: two tabs count once, closing the last removes the user', async ({ browser }) => {
  const watcher = await newUser(browser, 'w');
  const b = await newUser(browser, 'b');
  const online = watcher.page.getByRole('list', { name: 'Online' });
  await expect(online.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(1);
  const second = await b.context.newPage();
  await second.goto('/');
  await expect(second.getByRole('status')).toHaveText('Connected');
  await expect(online.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(1);
  await b.page.close();
  await watcher.page.waitForTimeout(1000);
  await expect(online.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(1);
  await second.close();
  await expect(online.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(0);
});

test('composer: Shift+Enter is a newline, empty and too long are refused before sending', async ({ page }) => {
  await signUp(page, uniqueName('c'));
  const box = page.getByRole('textbox', { name: 'Message' });
  const first = `第一行 ${Date.now()}`;
  await box.fill(first);
  await box.press('Shift+Enter');
  await box.pressSequentially('第二行');
  await box.press('Enter');
  await expect(messages(page).filter({ hasText: first })).toHaveText(`${first}\n第二行`);
  await box.fill('   ');
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('alert')).toHaveText('Message is empty');
  await box.fill('长'.repeat(4001));
  await page.getByRole('button', { name: 'Send' }).click();
  await expect(page.getByRole('alert')).toContainText('too long');
});

test('channels: create one with a Chinese name, it appears for others, messages stay in it', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const name = `产品讨论${Date.now() % 100000}`;
  await a.page.getByRole('button', { name: 'New channel' }).click();
  await a.page.getByLabel('Channel name').fill(name);
  await a.page.getByRole('button', { name: 'Create' }).click();
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(name);
  const link = b.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name });
  await expect(link).toBeVisible();
  await link.click();
  await expect(b.page.getByRole('heading', { level: 1 })).toContainText(name);
  await expect(b.page.getByRole('status')).toHaveText('Connected');
  const text = `只在${name} ${Date.now()}`;
  await send(a.page, text);
  await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
  await b.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: 'general' }).click();
  await expect(messages(b.page).filter({ hasText: text })).toHaveCount(0);
});

test('auth: wrong password shows an error, signed-out visitors land on login, log out works', async ({ page }) => {
  await page.goto('/c/1');
  await expect(page).toHaveURL(/\/login$/);
  const name = uniqueName('l');
  await page.getByRole('link', { name: 'Create account' }).click();
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Sign up' }).click();
  await expect(page.getByRole('status')).toHaveText('Connected');
  await page.getByRole('button', { name: 'Log out' }).click();
  await expect(page).toHaveURL(/\/login$/);
  await page.getByLabel('Username').fill(name);
  await page.getByLabel('Password').fill('wrong password');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('alert')).toHaveText('Wrong username or password');
  await page.getByLabel('Password').fill(PASSWORD);
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('status')).toHaveText('Connected');
});

test('a private channel is listed and readable for its members only', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const name = `私密-${Date.now()}`;
  await a.page.getByRole('button', { name: 'New channel' }).click();
  await a.page.getByLabel('Channel name').fill(name);
  await a.page.getByRole('checkbox', { name: 'Private' }).check();
  await a.page.getByRole('button', { name: 'Create' }).click();
  await expect(a.page).toHaveURL(/\/c\/\d+$/);
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(name);
  const nav = (page: typeof a.page) => page.getByRole('navigation', { name: 'Channels' });
  await expect(nav(a.page).getByRole('link', { name })).toHaveCount(1);
  const text = `secret ${Date.now()}`;
  await send(a.page, text);
  await expect(messages(a.page).filter({ hasText: text })).toHaveCount(1);
  // B never sees it: not in the list, not by URL.
  await b.page.reload();
  await expect(b.page.getByRole('status')).toHaveText('Connected');
  await expect(nav(b.page).getByRole('link', { name })).toHaveCount(0);
  await b.page.goto(a.page.url());
  await expect(b.page.getByRole('alert')).toContainText('access');
  await expect(b.page.getByText(text)).toHaveCount(0);
});
