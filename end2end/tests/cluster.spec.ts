import { expect, test } from '@playwright/test';
import fs from 'node:fs';
import { closeUsers, messages, newUser, send } from './helpers';

test.afterEach(closeUsers);

// Runs first: the next test kills nodes.
test('across nodes: a direct message and a reaction reach the other user live', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  await a.page.getByRole('button', { name: 'New message' }).click();
  const picker = a.page.getByRole('dialog', { name: 'New message' });
  await picker.getByRole('searchbox', { name: 'Find people' }).fill(b.name);
  await picker.getByRole('checkbox', { name: b.name }).check();
  await picker.getByRole('button', { name: 'Start', exact: true }).click();
  await expect(a.page).toHaveURL(/\/c\/\d+$/);
  // The new page, not the one before it still on screen while the new one loads.
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(b.name);
  const text = `dm across nodes ${Date.now()}`;
  await send(a.page, text);
  await b.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: a.name }).click();
  const onB = b.page.getByRole('log', { name: 'Messages' }).locator('article.message:not(.pending)', { hasText: text });
  await expect(onB).toHaveCount(1);
  await onB.getByRole('button', { name: 'Add reaction' }).click();
  await onB.getByRole('button', { name: '🎉', exact: true }).click();
  const onA = a.page.getByRole('log', { name: 'Messages' }).locator('article.message:not(.pending)', { hasText: text });
  await expect(onA.getByRole('button', { name: /^🎉 / })).toHaveText('🎉 1');
  await expect(onA.getByRole('button', { name: /^🎉 / })).toHaveAttribute('aria-pressed', 'false');
});

test('through nginx in front of three nodes, a killed node costs no message', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const first = `via nginx ${Date.now()}`;
  await send(a.page, first);
  await expect(messages(b.page).filter({ hasText: first })).toHaveCount(1);

  // SIGKILL two of the three nodes: whoever was on them reconnects through nginx to the last
  // one and resumes; posts made meanwhile are resent with their ids and stored once.
  const pids = fs.readFileSync(process.env.XIETONG_CLUSTER_PIDS!, 'utf8').trim().split('\n').map(Number);
  for (const pid of pids.slice(0, 2)) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // Already gone (a repeated run of this test against the same cluster).
    }
  }
  const after = [1, 2, 3].map((i) => `after kill ${i} ${Date.now()}`);
  // Sent straight away, whether or not A's socket has noticed yet: a send into a dead
  // connection stays pending and is resent after the reconnect.
  for (const text of after) await send(a.page, text);
  for (const text of after) {
    await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1, { timeout: 20_000 });
    await expect(messages(a.page).filter({ hasText: text })).toHaveCount(1, { timeout: 20_000 });
  }
  const all = await messages(b.page).allTextContents();
  expect(all.length).toBe(new Set(all).size);
  const positions = [first, ...after].map((t) => all.indexOf(t));
  expect([...positions].sort((x, y) => x - y)).toEqual(positions);
});
