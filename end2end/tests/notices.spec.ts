import { expect, test, type Page } from '@playwright/test';
import { closeUsers, newUser, uniqueName } from './helpers';

test.afterEach(closeUsers);

async function openNotices(page: Page) {
  await page.getByRole('link', { name: 'Notices', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Notices', level: 1 })).toBeVisible();
}

test('notices: published with acknowledgement, the "Not read" list empties live as people read; a revision asks again; withdrawn disappears', async ({ browser }) => {
  const alice = await newUser(browser, 'a');
  const bob = await newUser(browser, 'b');
  const carol = await newUser(browser, 'c');
  for (const user of [alice, bob, carol]) await openNotices(user.page);
  const page = alice.page;
  const title = uniqueName('放假通知');

  await page.getByRole('button', { name: 'New notice' }).click();
  const form = page.getByRole('form', { name: 'Notice' });
  await form.getByLabel('Type').selectOption({ label: '通知 Notice' });
  await form.getByLabel('Title').fill(title);
  await form.getByLabel('Body').fill('**五一**放假五天。\n\n<script>alert(1)</script>');
  await form.getByRole('button', { name: 'Remove Everyone' }).click();
  const audience = form.getByRole('combobox', { name: 'Audience' });
  for (const who of [bob, carol]) {
    await audience.fill(who.name);
    await form.getByRole('option', { name: who.name }).click();
  }
  await audience.press('Escape');
  await form.getByLabel('Requires acknowledgement').check();
  await form.getByRole('button', { name: 'Save draft' }).click();
  const article = page.getByRole('article', { name: title });
  await expect(page.getByRole('list', { name: 'Notices' }).getByText('Draft')).toBeVisible();
  // A draft is nobody else's business.
  await expect(bob.page.getByRole('button', { name: title })).toHaveCount(0);
  await article.getByRole('button', { name: 'Publish' }).click();

  // The author's live lists: both not read yet.
  const notRead = article.getByRole('list', { name: 'Not read' });
  const read = article.getByRole('list', { name: 'Read', exact: true });
  const acknowledged = article.getByRole('list', { name: 'Acknowledged' });
  await expect(notRead.getByRole('listitem')).toHaveText([bob.name, carol.name].sort());
  await expect(read.getByRole('listitem')).toHaveCount(0);

  // Bob has it at once (unread, to acknowledge); opening it reads it.
  const entry = bob.page.getByRole('listitem').filter({ has: bob.page.getByRole('button', { name: title }) });
  await expect(entry.getByText('Please acknowledge')).toBeVisible();
  await entry.getByRole('button', { name: title }).click();
  const bobs = bob.page.getByRole('article', { name: title });
  await expect(bobs.locator('.notice-body strong')).toHaveText('五一');
  await expect(bobs.locator('.notice-body script')).toHaveCount(0);
  await expect(notRead.getByRole('listitem')).toHaveText([carol.name]);
  await expect(read.getByRole('listitem')).toHaveText([bob.name]);
  await bobs.getByRole('button', { name: 'Acknowledge' }).click();
  await expect(bobs.getByText('Acknowledged', { exact: true })).toBeVisible();
  await expect(acknowledged.getByRole('listitem')).toHaveText([bob.name]);

  // "Remind" reaches those who have not acknowledged (carol).
  await article.getByRole('button', { name: 'Remind' }).click();
  await expect(article.getByRole('status')).toHaveText('Reminded 1 people.');
  await expect(carol.page.getByRole('button', { name: /^Notifications 2$/ })).toBeVisible();

  // Carol reads it from her notification: the list is empty now.
  await carol.page.getByRole('button', { name: /^Notifications/ }).click();
  await carol.page.getByRole('list', { name: 'Notifications' }).getByRole('link').first().click();
  await expect(carol.page.getByRole('article', { name: title })).toBeVisible();
  await expect(notRead.getByRole('listitem')).toHaveCount(0);
  await expect(read.getByRole('listitem')).toHaveCount(2);

  // A revision says what changed; Bob is asked to acknowledge again.
  await article.getByRole('button', { name: 'Edit' }).click();
  await form.getByLabel('Body').fill('**五一**放假四天。\n\n<script>alert(1)</script>');
  await form.getByRole('button', { name: 'Save revision' }).click();
  await expect(form.getByRole('alert')).toBeVisible();
  await form.getByLabel('What changed').fill('改为四天');
  await form.getByRole('button', { name: 'Save revision' }).click();
  await expect(bobs.getByText('Revision 2: 改为四天')).toBeVisible();
  await expect(bobs.locator('.changes .added')).toContainText('放假四天');
  await expect(bobs.getByRole('button', { name: 'Acknowledge' })).toBeVisible();
  await expect(acknowledged.getByRole('listitem')).toHaveCount(0);

  // Withdrawn: gone from Bob's and Carol's boards at once.
  await article.getByRole('button', { name: 'Withdraw' }).click();
  await expect(bob.page.getByRole('button', { name: title })).toHaveCount(0);
  await expect(carol.page.getByRole('button', { name: title })).toHaveCount(0);
  await expect(bobs).toHaveCount(0);
});

test('notice types: an admin adds one on the Admin page; it is offered in the notice form', async ({ browser }) => {
  const { newAdmin } = await import('./helpers');
  const admin = await newAdmin(browser);
  const user = await newUser(browser, 'u');
  await openNotices(user.page);
  await user.page.getByRole('button', { name: 'New notice' }).click();
  const kind = uniqueName('简报');
  await admin.page.getByRole('link', { name: 'Admin' }).click();
  const section = admin.page.getByRole('region', { name: 'Notice types' });
  await section.getByLabel('Type name').fill(kind);
  await section.getByLabel('Review by role').selectOption({ label: 'No review' });
  await section.getByRole('button', { name: 'Add notice type' }).click();
  await expect(section.getByRole('list', { name: 'Notice types' })).toContainText(kind);
  // The user's open form offers it once reopened (types are live on the board).
  await user.page.getByRole('button', { name: 'Cancel' }).click();
  await user.page.getByRole('button', { name: 'New notice' }).click();
  await expect(user.page.getByRole('form', { name: 'Notice' }).getByLabel('Type').locator('option', { hasText: kind })).toHaveCount(1);
  await section.getByRole('button', { name: `Remove ${kind}` }).click();
  await expect(section.getByRole('list', { name: 'Notice types' })).not.toContainText(kind);
});
