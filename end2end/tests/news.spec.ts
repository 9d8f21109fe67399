import { expect, test, type Page } from '@playwright/test';
import { closeUsers, newAdmin, newUser, png, uniqueName } from './helpers';

test.afterEach(closeUsers);

async function openNews(page: Page) {
  await page.getByRole('link', { name: 'News', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'News', level: 1 })).toBeVisible();
}

test.setTimeout(120_000);

test('news: an admin sets up a column and its editor; a story with a cover goes live to readers, who like and comment; the editor hides a comment; a story shared into a channel is a card that opens it', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const bob = await newUser(browser, 'b');
  const carol = await newUser(browser, 'c');
  const dave = await newUser(browser, 'd');
  for (const user of [admin, bob, carol]) await openNews(user.page);
  const columnName = uniqueName('行业');
  const title = uniqueName('新能源汽车');

  // Only admins manage columns, and only editors write.
  await expect(carol.page.getByRole('button', { name: 'Manage columns' })).toHaveCount(0);
  await expect(bob.page.getByRole('button', { name: 'New story' })).toHaveCount(0);
  await admin.page.getByRole('button', { name: 'Manage columns' }).click();
  const columns = admin.page.getByRole('region', { name: 'Manage columns' });
  await columns.getByRole('button', { name: 'New column' }).click();
  await columns.getByLabel('Column name').fill(columnName);
  await columns.getByLabel('Editors').selectOption({ label: bob.name });
  await columns.getByRole('button', { name: 'Save column' }).click();
  await expect(columns.getByRole('list', { name: 'Columns' }).getByText(columnName)).toBeVisible();

  // Bob is an editor now (live): he writes a draft with a cover image.
  const page = bob.page;
  await page.getByRole('button', { name: 'New story' }).click();
  const form = page.getByRole('form', { name: 'Story' });
  await form.getByLabel('Column').selectOption({ label: columnName });
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Summary').fill('销量同比增长三成');
  await form.getByLabel('Body').fill('**销量**创新高。\n\n<script>alert(1)</script>');
  await form.getByLabel('Cover image').setInputFiles({ name: 'cover.png', mimeType: 'image/png', buffer: await png(120, 80) });
  await expect(form.getByRole('button', { name: 'Remove cover.png' })).toBeVisible();
  await form.getByRole('button', { name: 'Save draft' }).click();
  const article = page.getByRole('article', { name: title });
  await expect(article).toBeVisible();
  await expect(page.getByRole('list', { name: 'Stories' }).getByText('Draft')).toBeVisible();
  // A draft is its editors' alone.
  await expect(carol.page.getByRole('button', { name: title })).toHaveCount(0);
  await article.getByRole('button', { name: 'Publish' }).click();

  // Carol has it at once, with its cover and summary; opening it shows the sanitised body.
  const stories = carol.page.getByRole('list', { name: 'Stories' });
  const entry = stories.getByRole('listitem').filter({ has: carol.page.getByRole('button', { name: title }) });
  await expect(entry.getByText('销量同比增长三成')).toBeVisible();
  await expect(entry.locator('img.cover')).toBeVisible();
  await entry.getByRole('button', { name: title }).click();
  const carols = carol.page.getByRole('article', { name: title });
  await expect(carols.locator('.story-body strong')).toHaveText('销量');
  await expect(carols.locator('.story-body script')).toHaveCount(0);
  await expect(carols.getByRole('img', { name: 'Cover image' })).toBeVisible();

  // A like shows for everyone live.
  await carols.getByRole('button', { name: 'Like' }).click();
  await expect(carols.getByRole('button', { name: 'Like' })).toHaveAttribute('aria-pressed', 'true');
  await expect(article.getByText('1 likes')).toBeVisible();

  // A comment reaches the editor live; he hides it and it leaves Carol's page live.
  await carols.getByRole('textbox', { name: 'Comment' }).fill('恭喜！');
  await carols.getByRole('button', { name: 'Post comment' }).click();
  const bobsComments = article.getByRole('list', { name: 'Comments' });
  const carolsComments = carols.getByRole('list', { name: 'Comments' });
  await expect(bobsComments.getByRole('listitem')).toContainText(['恭喜！']);
  await expect(carolsComments.getByRole('listitem')).toContainText(['恭喜！']);
  await expect(carolsComments.getByRole('button', { name: 'Hide' })).toHaveCount(0);
  await bobsComments.getByRole('button', { name: 'Hide' }).click();
  await expect(carolsComments.getByRole('listitem')).toHaveCount(0);
  await expect(bobsComments.getByText('Hidden')).toBeVisible();
  await expect(carol.page.getByRole('list', { name: 'Stories' }).getByText('0 comments')).toBeVisible();

  // Carol shares it into general: Dave sees a card there that opens the story.
  await carols.getByLabel('Share to channel').selectOption({ label: 'general' });
  await carols.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(carols.getByRole('status')).toHaveText('Shared.');
  const card = dave.page.getByRole('link', { name: `News: ${title}` });
  await expect(card).toBeVisible();
  await expect(card).toContainText('销量同比增长三成');
  await card.click();
  await expect(dave.page.getByRole('article', { name: title })).toBeVisible();

  // Views count each reader once: Bob (publishing it open), Carol and Dave.
  await expect(async () => {
    await page.reload();
    await expect(page.getByRole('list', { name: 'Stories' }).getByText(/3 views/)).toBeVisible({ timeout: 2000 });
  }).toPass();

  // Withdrawn: it leaves the readers' pages live.
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  await page.getByRole('list', { name: 'Stories' }).getByRole('button', { name: title }).click();
  await page.getByRole('article', { name: title }).getByRole('button', { name: 'Withdraw' }).click();
  await expect(stories.getByRole('button', { name: title })).toHaveCount(0);
  await expect(dave.page.getByText('This story is no longer available.')).toBeVisible();
});
