import { expect, test } from '@playwright/test';
import { closeUsers, newUser } from './helpers';

test.afterEach(closeUsers);

test('short messages: sent to two people, they arrive live as a message and a notification; the sender sees who read it', async ({ browser }) => {
  const alice = await newUser(browser, 'a');
  const bob = await newUser(browser, 'b');
  const carol = await newUser(browser, 'c');
  for (const user of [alice, bob, carol]) {
    await user.page.getByRole('link', { name: 'Short messages' }).click();
    await expect(user.page.getByRole('heading', { name: 'Short messages', level: 1 })).toBeVisible();
  }
  const page = alice.page;
  const to = page.getByRole('combobox', { name: 'To' });
  for (const who of [bob, carol]) {
    await to.fill(who.name);
    await page.getByRole('option', { name: who.name }).click();
  }
  await page.getByRole('textbox', { name: 'Message' }).fill('三点在 3 楼开会 <b>请准时</b>');
  await page.getByLabel('Urgent').check();
  await page.getByRole('button', { name: 'Send', exact: true }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Sent to 2 people.' })).toBeVisible();
  const sent = page.getByRole('list', { name: 'Sent' }).getByRole('listitem').first();
  await expect(sent).toContainText('三点在 3 楼开会 <b>请准时</b>');
  await expect(sent).toContainText('Read by 0 of 2');

  // Bob and Carol have it at once: in their list (urgent, unread) and as a notification.
  for (const who of [bob, carol]) {
    const item = who.page.getByRole('list', { name: 'Received' }).getByRole('listitem').first();
    await expect(item).toContainText('三点在 3 楼开会 <b>请准时</b>');
    await expect(item).toContainText('Urgent');
    await expect(item).toContainText(alice.name);
    await expect(who.page.getByRole('button', { name: /^Notifications 1$/ })).toBeVisible();
  }
  // No markup from the sender ever renders.
  await expect(bob.page.locator('.short-message b')).toHaveCount(0);

  // Bob reads it; Alice's "Sent" list follows live.
  const item = bob.page.getByRole('list', { name: 'Received' }).getByRole('listitem').first();
  await item.getByRole('button', { name: 'Mark read' }).click();
  await expect(item.getByRole('button', { name: 'Mark read' })).toHaveCount(0);
  await expect(sent).toContainText('Read by 1 of 2');
  await expect(sent).toContainText(bob.name);

  // Carol opens her notifications: the entry leads to the short messages.
  await carol.page.getByRole('button', { name: /^Notifications/ }).click();
  const list = carol.page.getByRole('list', { name: 'Notifications' });
  await expect(list.getByRole('link')).toContainText(`Short messages · ${alice.name}: 三点在 3 楼开会`);
  await expect(carol.page.getByRole('button', { name: 'Notifications', exact: true })).toBeVisible();
});

test('notification settings: per module and way, quiet hours and a webhook, saved and followed by another tab', async ({ browser }) => {
  const alice = await newUser(browser, 'n');
  const page = alice.page;
  const other = await alice.page.context().newPage();
  await other.goto('/settings/notifications');
  await expect(other.getByRole('heading', { name: 'Notification settings' })).toBeVisible();
  await expect(other.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();

  await page.getByRole('button', { name: 'Settings' }).click();
  await page.getByRole('link', { name: 'Notification settings' }).click();
  await expect(page.getByRole('heading', { name: 'Notification settings' })).toBeVisible();
  const email = page.getByRole('checkbox', { name: 'Email for Short messages' });
  // No SMTP server in this run: email cannot be chosen.
  await expect(email).toBeDisabled();
  const inApp = page.getByRole('checkbox', { name: 'In app for News' });
  await expect(inApp).toBeChecked();
  await inApp.uncheck();
  await page.getByRole('checkbox', { name: 'Hold back all but urgent word during quiet hours' }).check();
  await page.getByLabel('Quiet from').fill('21:30');
  await page.getByLabel('Quiet until').fill('08:00');
  await page.getByLabel('Webhook URL').fill('https://oapi.dingtalk.com/robot/send?access_token=abc');
  await page.getByLabel('Webhook type').selectOption('ding_talk');
  await page.getByLabel('Webhook secret').fill('SEC123');
  await page.getByRole('button', { name: 'Save notification settings' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Saved.' })).toBeVisible();

  // The other tab follows without a reload.
  await expect(other.getByRole('checkbox', { name: 'In app for News' })).not.toBeChecked();
  await expect(other.getByLabel('Quiet from')).toHaveValue('21:30');
  await expect(other.getByLabel('Webhook URL')).toHaveValue('https://oapi.dingtalk.com/robot/send?access_token=abc');
  // And after a reload it is what the server keeps.
  await page.reload();
  await expect(page.getByRole('checkbox', { name: 'In app for News' })).not.toBeChecked();
  await expect(page.getByLabel('Webhook type')).toHaveValue('ding_talk');

  // A bad webhook is refused with a clear error.
  await page.getByLabel('Webhook URL').fill('javascript:alert(1)');
  await page.getByRole('button', { name: 'Save notification settings' }).click();
  await expect(page.getByRole('alert')).toContainText('webhook');
});
