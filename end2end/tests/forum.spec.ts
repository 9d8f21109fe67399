import { expect, test, type Page } from '@playwright/test';
import { closeUsers, newAdmin, newUser, uniqueName } from './helpers';

test.afterEach(closeUsers);
test.setTimeout(120_000);

async function openForum(page: Page) {
  await page.getByRole('link', { name: 'Forum', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Forum', level: 1 })).toBeVisible();
}

async function startTopic(page: Page, kind: string, title: string, body: string) {
  await page.getByRole('button', { name: 'New topic' }).click();
  const form = page.getByRole('form', { name: 'New topic' });
  await form.getByLabel('Kind').selectOption({ label: kind });
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Body').fill(body);
  return form;
}

test('forum: a question gets replies that arrive as "N new replies" while its author reads, one quoting another; the author accepts an answer and everyone sees it solved live', async ({ browser }) => {
  const carol = await newUser(browser, 'c');
  const bob = await newUser(browser, 'b');
  const dave = await newUser(browser, 'd');
  for (const user of [carol, bob, dave]) await openForum(user.page);
  const title = uniqueName('怎么部署');

  const form = await startTopic(carol.page, 'Question', title, '用 **SQLite** 还是 PostgreSQL？<script>alert(1)</script>');
  await form.getByRole('button', { name: 'Post topic' }).click();
  const carols = carol.page.getByRole('article', { name: title });
  await expect(carols.locator('.markdown strong').first()).toHaveText('SQLite');
  await expect(carols.locator('script')).toHaveCount(0);

  // Bob has it at once and answers; Carol, reading, is told a reply arrived.
  const bobEntry = bob.page.getByRole('list', { name: 'Topics' }).getByRole('button', { name: title });
  await expect(bobEntry).toBeVisible();
  await expect(bob.page.getByRole('list', { name: 'Topics' }).getByText('Question')).toBeVisible();
  await bobEntry.click();
  const bobs = bob.page.getByRole('article', { name: title });
  await bobs.getByRole('textbox', { name: 'Reply' }).fill('一个人用 SQLite 就够了。');
  await bobs.getByRole('button', { name: 'Post reply' }).click();
  await expect(bobs.getByRole('list', { name: 'Replies' }).getByRole('listitem')).toHaveCount(1);
  await carols.getByRole('button', { name: '1 new replies' }).click();
  const carolReplies = carols.getByRole('list', { name: 'Replies' });
  await expect(carolReplies.getByRole('listitem')).toHaveCount(1);
  await expect(carolReplies.getByRole('listitem').first()).toContainText('一个人用 SQLite 就够了。');

  // Dave quotes Bob and mentions him.
  await dave.page.getByRole('list', { name: 'Topics' }).getByRole('button', { name: title }).click();
  const daves = dave.page.getByRole('article', { name: title });
  await daves.getByRole('button', { name: `Quote ${bob.name}` }).click();
  await expect(daves.getByText(`Quoting ${bob.name}`)).toBeVisible();
  await daves.getByRole('textbox', { name: 'Reply' }).fill(`同意 @${bob.name}，多人用 PostgreSQL。`);
  await daves.getByRole('button', { name: 'Post reply' }).click();
  const daveReply = daves.getByRole('list', { name: 'Replies' }).getByRole('listitem').nth(1);
  await expect(daveReply.locator('blockquote')).toContainText('一个人用 SQLite 就够了。');
  await expect(bobs.getByRole('button', { name: '1 new replies' })).toBeVisible();
  await expect(bob.page.getByRole('button', { name: /^Notifications \d/ })).toBeVisible();

  // Only Carol accepts an answer; everyone sees it solved.
  await expect(bobs.getByRole('button', { name: 'Accept answer' })).toHaveCount(0);
  await carols.getByRole('button', { name: '1 new replies' }).click();
  await carolReplies.getByRole('listitem').first().getByRole('button', { name: 'Accept answer' }).click();
  await expect(bobs.getByRole('list', { name: 'Replies' }).getByRole('listitem').first().getByText('Accepted answer')).toBeVisible();
  await expect(dave.page.getByRole('list', { name: 'Topics' }).getByText('Solved')).toBeVisible();
});

test('forum: a vote shows its results only after voting; a moderator pins and locks a topic and the others see it live', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const bob = await newUser(browser, 'b');
  const carol = await newUser(browser, 'c');
  for (const user of [admin, bob, carol]) await openForum(user.page);
  const title = uniqueName('团建');

  const form = await startTopic(bob.page, 'Vote', title, '选一个');
  await form.getByLabel('Options (one per line)').fill('爬山\n看电影\n聚餐');
  await form.getByLabel('Choices at most').fill('2');
  await form.getByRole('button', { name: 'Post topic' }).click();
  const bobs = bob.page.getByRole('article', { name: title });
  await expect(bobs.getByRole('list', { name: 'Results' })).toHaveCount(0);

  await carol.page.getByRole('list', { name: 'Topics' }).getByRole('button', { name: title }).click();
  const carols = carol.page.getByRole('article', { name: title });
  await carols.getByLabel('爬山').check();
  await carols.getByLabel('聚餐').check();
  await carols.getByRole('button', { name: 'Cast vote' }).click();
  await expect(carols.getByRole('list', { name: 'Results' }).getByRole('listitem')).toHaveText(['爬山 — 1 votes', '看电影 — 0 votes', '聚餐 — 1 votes']);
  // Bob has not voted: he sees how many voted, not what.
  await expect(bobs.getByText('1 voted')).toBeVisible();
  await expect(bobs.getByRole('list', { name: 'Results' })).toHaveCount(0);
  await bobs.getByLabel('看电影').check();
  await bobs.getByRole('button', { name: 'Cast vote' }).click();
  await expect(bobs.getByRole('list', { name: 'Results' }).getByRole('listitem')).toHaveText(['爬山 — 1 votes', '看电影 — 1 votes', '聚餐 — 1 votes']);
  // Carol, who voted, sees Bob's vote counted live.
  await expect(carols.getByRole('list', { name: 'Results' }).getByRole('listitem')).toHaveText(['爬山 — 1 votes', '看电影 — 1 votes', '聚餐 — 1 votes']);

  // The admin moderates: pinned and locked, live for the others.
  await expect(carols.getByRole('group', { name: 'Moderation' })).toHaveCount(0);
  await admin.page.getByRole('list', { name: 'Topics' }).getByRole('button', { name: title }).click();
  const admins = admin.page.getByRole('article', { name: title });
  await admins.getByRole('group', { name: 'Moderation' }).getByRole('button', { name: 'Pin' }).click();
  await admins.getByRole('group', { name: 'Moderation' }).getByRole('button', { name: 'Lock' }).click();
  await expect(carols.getByText('This topic is locked.')).toBeVisible();
  await expect(carols.getByRole('textbox', { name: 'Reply' })).toHaveCount(0);
  await expect(carol.page.getByRole('list', { name: 'Topics' }).getByRole('listitem').first()).toContainText(title);
});
