import { expect, test, type Page, type WebSocketRoute } from '@playwright/test';
import { closeUsers, messages, newUser } from './helpers';

test.afterEach(closeUsers);

/**
 * Puts the page's socket behind a proxy that can lose the next command: either before the
 * server sees it (`'request'`) or after the server applied it, losing its answer (`'answer'`).
 * Either way the connection then drops, as a flaky network would, and comes back.
 */
async function lossySocket(page: Page) {
  let lose: 'request' | 'answer' | null = null;
  let live: { client: WebSocketRoute; server: WebSocketRoute } | null = null;
  let swallowAnswers = false;
  await page.routeWebSocket(/\/ws$/, (client) => {
    const server = client.connectToServer();
    live = { client, server };
    swallowAnswers = false;
    client.onMessage((message) => {
      const isCommand = typeof message === 'string' && message.startsWith('{"command":');
      if (isCommand && lose === 'request') {
        lose = null;
        void cut();
        return;
      }
      if (isCommand && lose === 'answer') {
        lose = null;
        swallowAnswers = true;
        server.send(message);
        // The server stores it; its event and ack are lost with the connection.
        setTimeout(() => void cut(), 300);
        return;
      }
      server.send(message);
    });
    server.onMessage((message) => {
      if (!swallowAnswers) client.send(message);
    });
  });
  async function cut() {
    const conn = live;
    live = null;
    if (!conn) return;
    await conn.server.close({ code: 1000 }).catch(() => {});
    await conn.client.close({ code: 4999, reason: 'network lost (test)' }).catch(() => {});
  }
  return {
    loseNext(what: 'request' | 'answer') {
      lose = what;
    },
  };
}

for (const what of ['request', 'answer'] as const) {
  test(`a message whose ${what} was lost is resent on reconnect and stored once`, async ({ browser }) => {
    let socket!: Awaited<ReturnType<typeof lossySocket>>;
    const a = await newUser(browser, 'a', async (page) => {
      socket = await lossySocket(page);
    });
    const b = await newUser(browser, 'b');
    const text = `lost ${what} ${Date.now()}`;
    socket.loseNext(what);
    const box = a.page.getByRole('textbox', { name: 'Message' });
    await box.fill(text);
    await box.press('Enter');
    // Pending while the connection is down, then sent again with the same client id.
    await expect(a.page.getByRole('status')).toHaveText('Connected', { timeout: 15_000 });
    await expect(messages(a.page).filter({ hasText: text })).toHaveCount(1, { timeout: 15_000 });
    await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
    await expect(a.page.locator('article.message.pending')).toHaveCount(0);
    await b.page.reload();
    await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
  });
}
