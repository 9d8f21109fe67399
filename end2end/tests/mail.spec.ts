import { expect, test, type Page } from '@playwright/test';
import { closeUsers, newUser, uniqueName } from './helpers';

test.afterEach(closeUsers);
test.setTimeout(120_000);

async function openMail(page: Page) {
  await page.getByRole('link', { name: 'Mail', exact: true }).click();
  await expect(page.getByRole('heading', { name: 'Mail', level: 1 })).toBeVisible();
}

test('mail: sent to two people, the sender sees one read it live; recalled while the other had not read it, it leaves her inbox live; a reply comes back', async ({ browser }) => {
  const alice = await newUser(browser, 'a');
  const bob = await newUser(browser, 'b');
  const carol = await newUser(browser, 'c');
  for (const user of [alice, bob, carol]) await openMail(user.page);
  const subject = uniqueName('季度会议');

  const page = alice.page;
  await page.getByRole('button', { name: 'Compose' }).click();
  const form = page.getByRole('form', { name: 'Compose' });
  const to = form.getByRole('combobox', { name: 'To', exact: true });
  for (const who of [bob, carol]) {
    await to.fill(who.name);
    await form.getByRole('option', { name: who.name }).click();
  }
  await to.press('Escape');
  await form.getByLabel('Subject').fill(subject);
  await form.getByLabel('Body').fill('周五下午三点，**301** 会议室。<script>alert(1)</script>');
  await form.getByRole('button', { name: 'Send' }).click();
  const sent = page.getByRole('article', { name: subject });
  const receipts = sent.getByRole('list', { name: 'Receipts' });
  await expect(receipts.getByRole('listitem')).toHaveText([`${bob.name} — not read`, `${carol.name} — not read`].sort());

  // Bob has it in his Inbox at once, unread; opening it reads it, and Alice sees so.
  const bobInbox = bob.page.getByRole('list', { name: 'Mail' });
  await expect(bobInbox.getByText('Unread')).toBeVisible();
  await bobInbox.getByRole('button', { name: subject }).click();
  const bobs = bob.page.getByRole('article', { name: subject });
  await expect(bobs.locator('.mail-body strong')).toHaveText('301');
  await expect(bobs.locator('.mail-body script')).toHaveCount(0);
  await expect(receipts.getByRole('listitem').filter({ hasText: bob.name })).toContainText('read ');
  await expect(receipts.getByRole('listitem').filter({ hasText: carol.name })).toHaveText(`${carol.name} — not read`);

  // Recalled while Carol has not read it: gone from her Inbox live, and after a reload.
  await expect(carol.page.getByRole('list', { name: 'Mail' }).getByRole('button', { name: subject })).toBeVisible();
  await sent.getByRole('button', { name: 'Recall' }).click();
  await expect(sent.getByRole('status')).toHaveText('Recalled from 1 people.');
  await expect(carol.page.getByRole('button', { name: subject })).toHaveCount(0);
  await expect(receipts.getByRole('listitem').filter({ hasText: carol.name })).toHaveText(`${carol.name} — recalled`);
  await carol.page.reload();
  await expect(carol.page.getByRole('heading', { name: 'Mail', level: 1 })).toBeVisible();
  await expect(carol.page.getByText('No mail here.')).toBeVisible();
  // Bob, who had read it, keeps it; he replies, and Alice has the reply at once.
  await expect(bobs).toBeVisible();
  await bobs.getByRole('button', { name: 'Reply', exact: true }).click();
  const reply = bob.page.getByRole('form', { name: 'Compose' });
  await expect(reply.getByLabel('Subject')).toHaveValue(`Re: ${subject}`);
  await reply.getByLabel('Body').fill('收到');
  await reply.getByRole('button', { name: 'Send' }).click();
  await page.getByRole('navigation', { name: 'Folders' }).getByRole('button', { name: /^Inbox/ }).click();
  await expect(page.getByRole('list', { name: 'Mail' }).getByRole('button', { name: `Re: ${subject}` })).toBeVisible();

  // The searchbox finds the mail Bob holds and opens it; Carol, from whom it was recalled, finds none.
  const box = bob.page.getByRole('searchbox', { name: 'Search' });
  await box.fill(`${subject} 会议室`);
  await box.press('Enter');
  const found = bob.page.getByRole('list', { name: 'Mail and notices found' });
  await expect(found.getByRole('link')).toHaveCount(1);
  await expect(found.getByRole('link')).toContainText(subject);
  await found.getByRole('link').click();
  await expect(bob.page).toHaveURL(/\/mail\?m=\d+$/);
  await expect(bob.page.getByRole('article', { name: subject })).toBeVisible();
  // Carol's page was reloaded: the box answers once the page has hydrated.
  await expect(carol.page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  const carolBox = carol.page.getByRole('searchbox', { name: 'Search' });
  await expect(async () => {
    await carolBox.fill(`${subject} 会议室`);
    await carolBox.press('Enter');
    await expect(carol.page.getByText('No messages found')).toBeVisible({ timeout: 3_000 });
  }).toPass();
  await expect(carol.page.getByRole('list', { name: 'Mail and notices found' })).toHaveCount(0);
});
