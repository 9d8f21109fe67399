import { expect, test } from '@playwright/test';
import fs from 'node:fs';
import { messages, newUser, send } from './helpers';

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
  for (const text of after) {
    await expect(a.page.getByRole('status')).toHaveText('Connected', { timeout: 20_000 });
    await send(a.page, text);
  }
  for (const text of after) {
    await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1, { timeout: 20_000 });
    await expect(messages(a.page).filter({ hasText: text })).toHaveCount(1, { timeout: 20_000 });
  }
  const all = await messages(b.page).allTextContents();
  expect(all.length).toBe(new Set(all).size);
  const positions = [first, ...after].map((t) => all.indexOf(t));
  expect([...positions].sort((x, y) => x - y)).toEqual(positions);
});
