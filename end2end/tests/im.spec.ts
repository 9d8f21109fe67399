import { expect, test, type Page } from '@playwright/test';
import { closeUsers, messages, newAdmin, newUser, send, uniqueName } from './helpers';

test.afterEach(closeUsers);

/** The message (an article in the channel's log) holding `text`. */
function message(page: Page, text: string) {
  return page.getByRole('log', { name: 'Messages' }).locator('article.message:not(.pending)', { hasText: text });
}

async function pickPeople(page: Page, names: string[], confirm: string) {
  const dialog = page.getByRole('dialog', { name: confirm === 'Start' ? 'New message' : 'Add member' });
  for (const name of names) {
    await dialog.getByRole('searchbox', { name: 'Find people' }).fill(name);
    await dialog.getByRole('checkbox', { name }).check();
  }
  await dialog.getByRole('button', { name: confirm, exact: true }).click();
}

test('direct messages: New message starts one, the other sees it live, outsiders cannot read it', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const c = await newUser(browser, 'c');
  await a.page.getByRole('button', { name: 'New message' }).click();
  await pickPeople(a.page, [b.name], 'Start');
  await expect(a.page).toHaveURL(/\/c\/\d+$/);
  const dmUrl = a.page.url();
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(b.name);
  const text = `悄悄话 ${Date.now()}`;
  await send(a.page, text);
  // B's "Direct messages" list gains the conversation, named after A.
  const link = b.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: a.name });
  await expect(link).toBeVisible();
  await link.click();
  await expect(messages(b.page).filter({ hasText: text })).toHaveCount(1);
  // Starting it again opens the same conversation.
  await a.page.goto('/');
  await expect(a.page.getByRole('status')).toHaveText('Connected');
  await a.page.getByRole('button', { name: 'New message' }).click();
  await pickPeople(a.page, [b.name], 'Start');
  await expect(a.page).toHaveURL(dmUrl);
  // C: not in the list, not by URL.
  await expect(c.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link')).toHaveCount(0);
  await c.page.goto(dmUrl);
  await expect(c.page.getByRole('alert')).toBeVisible();
  await expect(c.page.getByText(text)).toHaveCount(0);
});

test('private channel: Members adds and removes; a removed member loses it at once', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const name = uniqueName('secret');
  await a.page.getByRole('button', { name: 'New channel' }).click();
  await a.page.getByLabel('Channel name').fill(name);
  await a.page.getByRole('checkbox', { name: 'Private' }).check();
  await a.page.getByRole('button', { name: 'Create' }).click();
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(name);
  const channels = b.page.getByRole('navigation', { name: 'Channels' });
  await expect(channels.getByRole('link', { name })).toHaveCount(0);

  await a.page.getByRole('button', { name: 'Members' }).click();
  const members = a.page.getByRole('dialog', { name: 'Members' });
  await members.getByRole('button', { name: 'Add member' }).click();
  await pickPeople(a.page, [b.name], 'Add');
  await expect(members.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(1);
  // B sees it appear live and opens it.
  await channels.getByRole('link', { name }).click();
  const before = `before removal ${Date.now()}`;
  await send(a.page, before);
  await expect(messages(b.page).filter({ hasText: before })).toHaveCount(1);

  await members.getByRole('listitem').filter({ hasText: b.name }).getByRole('button', { name: 'Remove' }).click();
  await expect(members.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(0);
  await expect(channels.getByRole('link', { name })).toHaveCount(0);
  await members.getByRole('button', { name: 'Close' }).click();
  const after = `after removal ${Date.now()}`;
  await send(a.page, after);
  await expect(messages(a.page).filter({ hasText: after })).toHaveCount(1);
  await b.page.waitForTimeout(500);
  await expect(b.page.getByText(after)).toHaveCount(0);
  await b.page.reload();
  await expect(b.page.getByText(before)).toHaveCount(0);
});

test('private channel: Leave takes a member out, live for the others; the channel is gone from their navigation', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const name = uniqueName('leave');
  await a.page.getByRole('button', { name: 'New channel' }).click();
  await a.page.getByLabel('Channel name').fill(name);
  await a.page.getByRole('checkbox', { name: 'Private' }).check();
  await a.page.getByRole('button', { name: 'Create' }).click();
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(name);
  await a.page.getByRole('button', { name: 'Members' }).click();
  const members = a.page.getByRole('dialog', { name: 'Members' });
  await members.getByRole('button', { name: 'Add member' }).click();
  await pickPeople(a.page, [b.name], 'Add');
  await expect(members.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(1);

  const channels = b.page.getByRole('navigation', { name: 'Channels' });
  await channels.getByRole('link', { name }).click();
  await expect(b.page.getByRole('heading', { level: 1 })).toContainText(name);
  await b.page.getByRole('button', { name: 'Leave', exact: true }).click();
  await expect(b.page).toHaveURL(/\/$/);
  await expect(channels.getByRole('link', { name })).toHaveCount(0);
  // Alice's open Members list follows.
  await expect(members.getByRole('listitem').filter({ hasText: b.name })).toHaveCount(0);
  await b.page.reload();
  await expect(b.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name })).toHaveCount(0);
});

test('threads: Reply in thread opens the Thread panel; the parent shows the reply count live', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const root = `thread root ${Date.now()}`;
  await send(a.page, root);
  await message(b.page, root).getByRole('button', { name: 'Reply in thread' }).click();
  const thread = b.page.getByRole('complementary', { name: 'Thread' });
  await expect(thread).toContainText(root);
  const reply = b.page.getByRole('textbox', { name: 'Reply' });
  await reply.fill('回复一');
  await reply.press('Enter');
  await expect(thread.getByRole('log', { name: 'Thread messages' }).locator('article.message:not(.pending)')).toHaveText([/回复一/]);
  // The reply is not in the channel's main list; its root counts it, live, for A.
  await expect(message(a.page, root).getByRole('button', { name: '1 reply' })).toBeVisible();
  await expect(messages(a.page).filter({ hasText: '回复一' })).toHaveCount(0);
  await message(a.page, root).getByRole('button', { name: '1 reply' }).click();
  const aThread = a.page.getByRole('complementary', { name: 'Thread' });
  await expect(aThread.getByRole('log', { name: 'Thread messages' })).toContainText('回复一');
  await a.page.getByRole('textbox', { name: 'Reply' }).fill('reply two');
  await a.page.getByRole('textbox', { name: 'Reply' }).press('Enter');
  await expect(thread.getByRole('log', { name: 'Thread messages' })).toContainText('reply two');
  await expect(message(b.page, root).getByRole('button', { name: '2 replies' })).toBeVisible();
  await b.page.reload();
  await expect(message(b.page, root).getByRole('button', { name: '2 replies' })).toBeVisible();
});

test('threads: a long thread opens on its newest replies; "Load older replies" brings the rest', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const root = `long thread ${Date.now()}`;
  await send(a.page, root);
  const rootId = Number(await message(a.page, root).getAttribute('data-id'));
  const href = await a.page.getByRole('navigation', { name: 'Channels' }).getByRole('link', { name: /^general/ }).getAttribute('href');
  const channel = Number(href?.split('/').pop());
  // 55 replies through the command endpoint (the same path the socket's commands take).
  await a.page.evaluate(async ({ channel, rootId }) => {
    for (let i = 0; i < 55; i++) {
      const response = await fetch('/api/command', {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({
          client_id: `long-thread-${rootId}-${i}`,
          command: { post_message: { channel, body: `old reply ${i}`, thread: rootId } },
        }),
      });
      if (!response.ok) throw new Error(await response.text());
    }
  }, { channel, rootId });
  await message(a.page, root).getByRole('button', { name: '55 replies' }).click();
  const log = a.page.getByRole('complementary', { name: 'Thread' }).getByRole('log', { name: 'Thread messages' });
  const replies = log.locator('article.message:not(.pending) .body');
  await expect(replies).toHaveCount(50);
  await expect(replies.first()).toHaveText('old reply 5');
  await expect(replies.last()).toHaveText('old reply 54');
  await log.getByRole('button', { name: 'Load older replies' }).click();
  await expect(replies).toHaveCount(55);
  await expect(replies.first()).toHaveText('old reply 0');
  await expect(log.getByRole('button', { name: 'Load older replies' })).toHaveCount(0);
});

test('reactions: Add reaction, counts live, aria-pressed for mine, a click toggles', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const text = `react ${Date.now()}`;
  await send(a.page, text);
  await message(b.page, text).getByRole('button', { name: 'Add reaction' }).click();
  await message(b.page, text).getByRole('button', { name: '👍', exact: true }).click();
  const onA = message(a.page, text).getByRole('button', { name: /^👍 / });
  await expect(onA).toHaveText('👍 1');
  await expect(onA).toHaveAttribute('aria-pressed', 'false');
  await onA.click();
  await expect(onA).toHaveText('👍 2');
  await expect(onA).toHaveAttribute('aria-pressed', 'true');
  const onB = message(b.page, text).getByRole('button', { name: /^👍 / });
  await expect(onB).toHaveText('👍 2');
  await onB.click();
  await expect(onA).toHaveText('👍 1');
  await b.page.reload();
  await expect(message(b.page, text).getByRole('button', { name: /^👍 / })).toHaveAttribute('aria-pressed', 'false');
});

test('edit and delete: (edited) and the deletion reach everyone; Escape cancels an edit', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const text = `edit me ${Date.now()}`;
  await send(a.page, text);
  // Only the author has Edit.
  await expect(message(b.page, text).getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await message(a.page, text).getByRole('button', { name: 'Edit' }).click();
  const box = a.page.getByRole('textbox', { name: 'Edit message' });
  // The box takes the typing at once, also the first time (its code loads on that click).
  await expect(box).toBeFocused();
  await box.fill('never saved');
  await box.press('Escape');
  await expect(box).toHaveCount(0);
  await expect(message(a.page, text)).toHaveCount(1);
  await message(a.page, text).getByRole('button', { name: 'Edit' }).click();
  await box.fill(`${text} 已修改`);
  await box.press('Enter');
  await expect(message(b.page, `${text} 已修改`)).toContainText('(edited)');
  await message(a.page, text).getByRole('button', { name: 'Delete' }).click();
  await a.page.getByRole('dialog', { name: 'Delete message' }).getByRole('button', { name: 'Delete' }).click();
  await expect(b.page.getByText(`${text} 已修改`)).toHaveCount(0);
  await expect(b.page.getByRole('log', { name: 'Messages' })).toContainText('This message was deleted');
  await b.page.reload();
  await expect(b.page.getByText(`${text} 已修改`)).toHaveCount(0);
});

test('pins: Pin shows in the Pinned list for others; Unpin takes it out', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const text = `pin me ${Date.now()}`;
  await send(a.page, text);
  await message(a.page, text).getByRole('button', { name: 'Pin', exact: true }).click();
  await expect(message(b.page, text).getByRole('button', { name: 'Unpin' })).toBeVisible();
  await b.page.getByRole('button', { name: 'Pinned' }).click();
  const pinned = b.page.getByRole('dialog', { name: 'Pinned messages' });
  await expect(pinned.getByRole('listitem').filter({ hasText: text })).toHaveCount(1);
  await message(a.page, text).getByRole('button', { name: 'Unpin' }).click();
  await expect(pinned.getByRole('listitem').filter({ hasText: text })).toHaveCount(0);
});

test('typing: the other user sees "NAME is typing…" while one types, and it goes once they post', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const typing = a.page.locator('p.typing');
  await expect(typing).toHaveText('');
  const box = b.page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially('正在输入', { delay: 50 });
  await expect(typing).toHaveText(`${b.name} is typing…`);
  // Never about oneself.
  await expect(b.page.locator('p.typing')).toHaveText('');
  await box.press('Enter');
  await expect(typing).toHaveText('');
  // Typing and stopping: the notice goes by itself a few seconds later.
  await box.pressSequentially('again', { delay: 50 });
  await expect(typing).toHaveText(`${b.name} is typing…`);
  await expect(typing).toHaveText('', { timeout: 9_000 });
});

test('a phone-sized screen: Menu opens the navigation, and nothing overlaps', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  await a.page.setViewportSize({ width: 390, height: 844 });
  const menu = a.page.getByRole('button', { name: 'Menu' });
  await expect(menu).toBeVisible();
  await expect(a.page.getByRole('navigation', { name: 'Channels' })).toBeHidden();
  const title = a.page.getByRole('heading', { level: 1 });
  const overlap = (p: { x: number; y: number; width: number; height: number }, q: typeof p) =>
    p.x < q.x + q.width && q.x < p.x + p.width && p.y < q.y + q.height && q.y < p.y + p.height;
  const boxes = await Promise.all([menu, title, a.page.getByRole('textbox', { name: 'Message' })].map((l) => l.boundingBox()));
  for (const box of boxes) expect(box).not.toBeNull();
  for (let i = 0; i < boxes.length; i++)
    for (let j = i + 1; j < boxes.length; j++) expect(overlap(boxes[i]!, boxes[j]!)).toBe(false);
  // Everything fits the width: no sideways scrolling.
  expect(await a.page.evaluate(() => document.documentElement.scrollWidth)).toBeLessThanOrEqual(390);
  await menu.click();
  const channels = a.page.getByRole('navigation', { name: 'Channels' });
  await expect(channels).toBeVisible();
  await channels.getByRole('link', { name: 'general' }).click();
  await expect(channels).toBeHidden();
  await expect(a.page.getByRole('textbox', { name: 'Message' })).toBeVisible();
});

test('Markdown: emphasis, code blocks and links render for everyone; links open safely', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const stamp = Date.now();
  const box = a.page.getByRole('textbox', { name: 'Message' });
  await box.fill(`**重要** ${stamp} see [the site](https://example.com/x)\n\`\`\`\nlet x = 1;\n\`\`\``);
  await box.press('Enter');
  const item = message(b.page, String(stamp));
  await expect(item.locator('strong')).toHaveText('重要');
  await expect(item.locator('pre code')).toHaveText('let x = 1;');
  const link = item.getByRole('link', { name: 'the site' });
  await expect(link).toHaveAttribute('href', 'https://example.com/x');
  await expect(link).toHaveAttribute('rel', 'noopener noreferrer');
  await b.page.reload();
  await expect(message(b.page, String(stamp)).locator('strong')).toHaveText('重要');
});

test('unread: badges and title count live, "New" marks the first unread, opening clears every tab', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b'); // b opened general on arrival: a member of it now
  // B works in another channel, in two tabs.
  const side = uniqueName('side');
  await b.page.getByRole('button', { name: 'New channel' }).click();
  await b.page.getByLabel('Channel name').fill(side);
  await b.page.getByRole('button', { name: 'Create' }).click();
  await expect(b.page.getByRole('heading', { level: 1 })).toContainText(side);
  const tab2 = await b.context.newPage();
  await tab2.goto(b.page.url());
  await expect(tab2.getByRole('status')).toHaveText('Connected');

  const first = `第一条 ${Date.now()}`;
  await send(a.page, first);
  await send(a.page, 'second');
  await send(a.page, 'third');
  for (const page of [b.page, tab2]) {
    const nav = page.getByRole('navigation', { name: 'Channels' });
    await expect(nav.getByRole('link', { name: 'general, 3 unread' })).toBeVisible();
    await expect(page).toHaveTitle('(3) 协同');
  }
  await send(a.page, `@${b.name} 请看`);
  const channels = b.page.getByRole('navigation', { name: 'Channels' });
  await expect(channels.getByRole('link', { name: 'general, 4 unread, 1 mention' })).toBeVisible();

  await channels.getByRole('link', { name: /^general/ }).click();
  await expect(b.page.getByRole('separator', { name: 'New' })).toBeVisible();
  await expect(b.page.locator('.new-line + article.message')).toContainText(first);
  const mention = message(b.page, '请看');
  await expect(mention.locator('.markdown .mention')).toHaveText(`@${b.name}`);
  await expect(mention.getByText('Mentions you')).toBeVisible();
  await expect(message(a.page, '请看').getByText('Mentions you')).toHaveCount(0);
  // The other tab clears at once, and stays clear after a reload.
  const nav2 = tab2.getByRole('navigation', { name: 'Channels' });
  await expect(nav2.getByRole('link', { name: 'general', exact: true })).toBeVisible();
  await expect(tab2).toHaveTitle('协同');
  await tab2.reload();
  await expect(tab2.getByRole('status')).toHaveText('Connected');
  await expect(nav2.getByRole('link', { name: 'general', exact: true })).toBeVisible();
  // While B reads general, new messages do not pile up as unread.
  await send(a.page, 'while b reads');
  await expect(message(b.page, 'while b reads')).toBeVisible();
  await expect(nav2.getByRole('link', { name: 'general', exact: true })).toBeVisible();
  await expect(b.page).toHaveTitle('协同');
});

test('mentions: "@" opens Mention suggestions; arrows, Enter and Tab pick', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const box = a.page.getByRole('textbox', { name: 'Message' });
  await box.pressSequentially(`hi @${b.name.slice(0, -1)}`);
  const list = a.page.getByRole('listbox', { name: 'Mention suggestions' });
  await expect(list.getByRole('option', { name: `@${b.name}` })).toBeVisible();
  await expect(list.getByRole('option').first()).toHaveAttribute('aria-selected', 'true');
  await box.press('Enter');
  await expect(box).toHaveValue(`hi @${b.name} `);
  await expect(list).toHaveCount(0);
  await box.pressSequentially('and @cha');
  await expect(list.getByRole('option', { name: '@channel' })).toBeVisible();
  await box.press('Tab');
  await expect(box).toHaveValue(`hi @${b.name} and @channel `);
  await box.press('Enter');
  await expect(box).toHaveValue('');
  const sent = message(b.page, 'and @channel');
  await expect(sent.locator('.mention')).toHaveText([`@${b.name}`, '@channel']);
  await expect(sent.getByText('Mentions you')).toBeVisible();

  // Arrow keys move the choice; Escape closes the list.
  await box.pressSequentially('@');
  await expect(list.getByRole('option').nth(1)).toBeVisible();
  await box.press('ArrowDown');
  await expect(list.getByRole('option').nth(1)).toHaveAttribute('aria-selected', 'true');
  await expect(list.getByRole('option').first()).toHaveAttribute('aria-selected', 'false');
  await box.press('Escape');
  await expect(list).toHaveCount(0);
});

test('seen: the sender sees "Seen" (groups: "Seen by N"); Settings turns read receipts off', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const c = await newUser(browser, 'c');
  // A group conversation: "Seen by N" counts the readers.
  await a.page.getByRole('button', { name: 'New message' }).click();
  await pickPeople(a.page, [b.name, c.name], 'Start');
  await expect(a.page).toHaveURL(/\/c\/\d+$/);
  await expect(a.page.getByRole('heading', { level: 1 })).toContainText(c.name);
  await send(a.page, 'group hello');
  const seen = a.page.locator('.seen');
  await expect(seen).toHaveText('');
  for (const reader of [b, c]) {
    await reader.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: new RegExp(a.name) }).click();
    await expect(message(reader.page, 'group hello')).toBeVisible();
  }
  await expect(seen).toHaveText('Seen by 2');

  // A direct message: "Seen" once B has read it; gone under A's next message until read again.
  await a.page.getByRole('button', { name: 'New message' }).click();
  await pickPeople(a.page, [b.name], 'Start');
  await send(a.page, 'just you');
  const dmLink = b.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: `${a.name}, 1 unread` });
  await dmLink.click();
  await expect(message(b.page, 'just you')).toBeVisible();
  await expect(seen).toHaveText('Seen');
  await send(a.page, 'and again');
  await expect(message(b.page, 'and again')).toBeVisible();
  await expect(seen).toHaveText('Seen');

  // B turns read receipts off: A's next message stays unseen even though B reads it.
  await b.page.getByRole('button', { name: 'Settings' }).click();
  const settings = b.page.getByRole('dialog', { name: 'Settings' });
  const receipts = settings.getByRole('checkbox', { name: 'Send read receipts' });
  await expect(receipts).toBeChecked();
  await receipts.uncheck();
  await settings.getByRole('button', { name: 'Close' }).click();
  // The setting is kept: a reload shows it off.
  await b.page.reload();
  await expect(b.page.getByRole('status')).toHaveText('Connected');
  await b.page.getByRole('button', { name: 'Settings' }).click();
  await expect(b.page.getByRole('checkbox', { name: 'Send read receipts' })).not.toBeChecked();
  await b.page.getByRole('button', { name: 'Close' }).click();
  await send(a.page, 'unseen now');
  await expect(message(b.page, 'unseen now')).toBeVisible();
  await expect(b.page.getByRole('navigation', { name: 'Direct messages' }).getByRole('link', { name: a.name, exact: true })).toBeVisible();
  await expect(seen).toHaveText('');
});

test('search: Chinese inside a sentence, from: and in:; a result opens its message highlighted', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b');
  const tag = uniqueName('x');
  const target = `我家在上海东边 ${tag}`;
  await send(a.page, target);
  for (let i = 0; i < 60; i++) await send(a.page, `filler ${i} ${tag}`); // the target scrolls out of the first page
  const box = b.page.getByRole('searchbox', { name: 'Search' });
  await box.fill(`上海 ${tag}`);
  await box.press('Enter');
  const results = b.page.getByRole('list', { name: 'Search results' });
  await expect(results.getByRole('link')).toHaveCount(1);
  await expect(results.getByRole('link')).toContainText(target);
  await box.fill(`${tag} from:${b.name}`);
  await box.press('Enter');
  await expect(b.page.getByText('No messages found')).toBeVisible();
  await box.fill(`filler ${tag} in:general`);
  await box.press('Enter');
  await expect(results.getByRole('link')).toHaveCount(30);

  await box.fill(`上海东 ${tag}`);
  await box.press('Enter');
  await results.getByRole('link').first().click();
  await expect(b.page).toHaveURL(/\/c\/1\?m=\d+$/);
  const found = message(b.page, target);
  await expect(found).toHaveAttribute('aria-current', 'true');
  await expect(found).toBeInViewport();
  await expect(results).toHaveCount(0);
});

test('notifications: mentions, DMs and replies listed with an unseen count; desktop notifications only when asked', async ({ browser }) => {
  const a = await newUser(browser, 'a');
  const b = await newUser(browser, 'b', async (page) => {
    // The browser's Notification API, watched: the app may offer it, never ask unprompted.
    await page.addInitScript(() => {
      const w = window as unknown as { asked: number; Notification: unknown };
      w.asked = 0;
      class Fake { static permission = 'default'; static async requestPermission() { w.asked += 1; Fake.permission = 'granted'; return 'granted'; } }
      w.Notification = Fake;
    });
  });
  const button = b.page.getByRole('button', { name: /^Notifications/ });
  await expect(button).toHaveText('Notifications');
  await send(a.page, `@${b.name} 看这里`);
  await expect(button).toHaveText('Notifications 1');
  await button.click();
  const list = b.page.getByRole('list', { name: 'Notifications' });
  await expect(list.getByRole('link')).toHaveCount(1);
  await expect(list.getByRole('link')).toHaveText(`${a.name} mentioned you: @${b.name} 看这里`);
  await expect(button).toHaveText('Notifications');
  expect(await b.page.evaluate(() => (window as unknown as { asked: number }).asked)).toBe(0);
  await b.page.getByRole('button', { name: 'Enable desktop notifications' }).click();
  await expect.poll(() => b.page.evaluate(() => (window as unknown as { asked: number }).asked)).toBe(1);
  await expect(b.page.getByRole('button', { name: 'Enable desktop notifications' })).toHaveCount(0);
  await list.getByRole('link').click();
  await expect(b.page).toHaveURL(/\/c\/1\?m=\d+$/);
  await expect(message(b.page, '看这里')).toHaveAttribute('aria-current', 'true');
  // A direct message notifies too, and a second tab of B sees the count clear at once.
  const tab2 = await b.context.newPage();
  await tab2.goto('/');
  await expect(tab2.getByRole('status')).toHaveText('Connected');
  await a.page.getByRole('button', { name: 'New message' }).click();
  await pickPeople(a.page, [b.name], 'Start');
  await send(a.page, '私聊一下');
  const button2 = tab2.getByRole('button', { name: /^Notifications/ });
  await expect(button2).toHaveText('Notifications 1');
  await button.click();
  await expect(list.getByRole('link').first()).toHaveText(`${a.name}: 私聊一下`);
  await expect(button2).toHaveText('Notifications');
});

test('time limits: an admin sets them in Workspace settings; Edit and Delete go from older messages, live', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const a = await newUser(browser, 'a');
  const words = uniqueName('my words ');
  await send(a.page, words);
  const mine = message(a.page, words);
  await expect(mine.getByRole('button', { name: 'Edit' })).toHaveCount(1);
  // The same article after its text is gone: other tests' deleted messages share the channel.
  const id = await mine.getAttribute('data-id');
  const sameArticle = a.page.locator(`article.message[data-id="${id}"]`);
  await admin.page.getByRole('button', { name: 'Workspace settings' }).click();
  const dialog = admin.page.getByRole('dialog', { name: 'Workspace settings' });
  await dialog.getByLabel('Edit time limit (minutes)').fill('0');
  await dialog.getByLabel('Delete time limit (minutes)').fill('0');
  await dialog.getByRole('button', { name: 'Save' }).click();
  await expect(mine.getByRole('button', { name: 'Edit' })).toHaveCount(0);
  await expect(mine.getByRole('button', { name: 'Delete' })).toHaveCount(0);
  // The admin still deletes it.
  const theirs = message(admin.page, words);
  await theirs.getByRole('button', { name: 'Delete' }).click();
  await admin.page.getByRole('dialog', { name: 'Delete message' }).getByRole('button', { name: 'Delete' }).click();
  await expect(sameArticle).toContainText('This message was deleted');
  await expect(message(a.page, words)).toHaveCount(0);
  // Limits lifted: Edit is back on new messages.
  await admin.page.getByRole('button', { name: 'Workspace settings' }).click();
  await dialog.getByLabel('Edit time limit (minutes)').fill('');
  await dialog.getByLabel('Delete time limit (minutes)').fill('');
  await dialog.getByRole('button', { name: 'Save' }).click();
  const newWords = uniqueName('new words ');
  await send(a.page, newWords);
  await expect(message(a.page, newWords).getByRole('button', { name: 'Edit' })).toHaveCount(1);
});
