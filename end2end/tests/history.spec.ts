import { expect, test } from '@playwright/test';
import { closeUsers, messages, signUp, uniqueName } from './helpers';

test.afterEach(closeUsers);

test('the first screen is server-rendered with the latest 50; scrolling up loads older', async ({ page, browser }) => {
  await signUp(page, uniqueName('h'));
  const name = `history-${Date.now()}`;
  await page.getByRole('button', { name: 'New channel' }).click();
  await page.getByLabel('Channel name').fill(name);
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(page).toHaveURL(/\/c\/\d+$/);
  await expect(page.getByRole('heading', { level: 1 })).toContainText(name);
  const channel = Number(page.url().match(/\/c\/(\d+)$/)![1]);

  // 60 messages from a second socket of the same session (like another tab).
  await page.evaluate(async (channel) => {
    const ws = new WebSocket(`ws://${location.host}/ws`);
    await new Promise<void>((resolve, reject) => {
      let acks = 0;
      ws.onmessage = (ev) => {
        // Each frame is an object whose one key names its kind (PROTOCOL.md).
        const msg = JSON.parse(ev.data);
        if (msg.welcome) {
          for (let i = 0; i < 60; i++) {
            ws.send(JSON.stringify({
              command: {
                client_id: `seed-${i}-${Date.now()}`,
                command: { post_message: { channel, body: `m${i}` } },
              },
            }));
          }
        } else if (msg.ack && ++acks === 60) {
          resolve();
        } else if (msg.error) {
          reject(new Error(msg.error.message));
        }
      };
    });
    ws.close();
  }, channel);
  await expect(messages(page).last()).toHaveText('m59');

  // Without JavaScript the page still shows the latest 50, rendered by the server.
  const noJs = await browser.newContext({ javaScriptEnabled: false, storageState: await page.context().storageState() });
  const staticPage = await noJs.newPage();
  await staticPage.goto(`/c/${channel}`);
  await expect(staticPage.locator('article.message .body')).toHaveCount(50);
  await expect(staticPage.locator('article.message .body').first()).toHaveText('m10');
  await noJs.close();

  await page.reload();
  await expect(page.getByRole('status')).toHaveText('Connected');
  await expect(messages(page)).toHaveCount(50);
  await expect(messages(page).first()).toHaveText('m10');
  await page.getByRole('log', { name: 'Messages' }).evaluate((el) => { el.scrollTop = 0; });
  await expect(messages(page)).toHaveCount(60);
  await expect(messages(page).first()).toHaveText('m0');
  await expect(page.getByRole('button', { name: 'Load older messages' })).toHaveCount(0);
});
