import { expect, test } from '@playwright/test';
import { closeUsers, newUser, png } from './helpers';

test.afterEach(closeUsers);

/** Bytes that are not all alike (so nothing along the way can shortcut them). */
function bytes(size: number, seed: number): Buffer {
  const out = Buffer.alloc(size);
  for (let i = 0; i < size; i++) out[i] = (i * 31 + seed) & 0xff;
  return out;
}

test('file cabinet: upload with a progress bar, cancel, folders, a 中文文件名 download, versions and the recycle bin, live in a second tab', async ({ browser }) => {
  const user = await newUser(browser, 'f');
  const page = user.page;
  const second = await user.context.newPage();
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(page.getByRole('heading', { name: 'Files' })).toBeVisible();
  await second.goto('/files');
  await expect(second.getByRole('heading', { name: 'Files' })).toBeVisible();
  await expect(second.getByRole('status').filter({ hasText: 'used' })).toBeVisible();

  // Pieces are held back a little, so the bar can be seen moving.
  await page.route('**/files/uploads/*?offset=*', async (route) => {
    await new Promise((r) => setTimeout(r, 400));
    await route.continue();
  });

  // A folder, made in one tab, appears in the other.
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('项目资料');
  await page.getByRole('button', { name: 'Create' }).click();
  await expect(second.getByRole('button', { name: '项目资料', exact: true })).toBeVisible();
  await page.getByRole('button', { name: '项目资料', exact: true }).click();

  // A 10 MB upload goes in pieces: the bar shows it, then the file is in the folder.
  await page.getByLabel('Upload', { exact: true }).setInputFiles({ name: '中文文件名.docx', mimeType: 'application/octet-stream', buffer: bytes(10 * 1024 * 1024, 1) });
  const bar = page.getByRole('progressbar', { name: 'Uploading 中文文件名.docx' });
  await expect(bar).toBeVisible();
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  const files = page.getByRole('table', { name: 'Files' });
  await expect(files.getByRole('link', { name: '中文文件名.docx' })).toBeVisible({ timeout: 30_000 });
  await expect(bar).toHaveCount(0);
  await expect(page.getByRole('status').filter({ hasText: '10 MB of' })).toBeVisible();

  // Its download arrives with its Chinese name and every byte.
  const [download] = await Promise.all([
    page.waitForEvent('download'),
    files.getByRole('link', { name: '中文文件名.docx' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('中文文件名.docx');
  const fs = await import('node:fs');
  const saved = fs.readFileSync(await download.path());
  expect(saved.equals(bytes(10 * 1024 * 1024, 1))).toBe(true);

  // An upload cancelled midway leaves nothing behind.
  await page.getByLabel('Upload', { exact: true }).setInputFiles({ name: 'cancelled.bin', mimeType: 'application/octet-stream', buffer: bytes(12 * 1024 * 1024, 2) });
  await expect(page.getByRole('progressbar', { name: 'Uploading cancelled.bin' })).toBeVisible();
  await page.getByRole('button', { name: 'Cancel upload of cancelled.bin' }).click();
  await expect(page.getByRole('progressbar', { name: 'Uploading cancelled.bin' })).toHaveCount(0);
  await page.waitForTimeout(1500);
  await expect(files.getByRole('link', { name: 'cancelled.bin' })).toHaveCount(0);

  // The same name again keeps the old one as a version.
  await page.getByLabel('Upload', { exact: true }).setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('第一版') });
  await expect(files.getByRole('link', { name: 'plan.txt' })).toBeVisible();
  await page.getByLabel('Upload', { exact: true }).setInputFiles({ name: 'plan.txt', mimeType: 'text/plain', buffer: Buffer.from('第二版，更长') });
  await page.getByRole('button', { name: 'Versions of plan.txt' }).click();
  await expect(page.getByRole('list', { name: 'Versions of plan.txt' }).getByRole('link', { name: /Version 1/ })).toBeVisible();

  // Deleted to the recycle bin (the other tab follows), restored, deleted and emptied.
  await page.getByRole('button', { name: 'Delete plan.txt' }).click();
  await expect(files.getByRole('link', { name: 'plan.txt' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Recycle bin', exact: true }).click();
  await page.getByRole('button', { name: 'Restore plan.txt' }).click();
  await expect(page.getByRole('button', { name: 'Restore plan.txt' })).toHaveCount(0);
  await page.getByRole('button', { name: 'Recycle bin', exact: true }).click();
  await page.getByRole('button', { name: '项目资料', exact: true }).click();
  await expect(files.getByRole('link', { name: 'plan.txt' })).toBeVisible();
  await page.getByRole('button', { name: 'My files' }).click();
  await page.getByRole('button', { name: 'Delete 项目资料' }).click();
  await expect(second.getByRole('button', { name: '项目资料', exact: true })).toHaveCount(0);
  await page.getByRole('button', { name: 'Recycle bin', exact: true }).click();
  await page.getByRole('button', { name: 'Empty recycle bin' }).click();
  await expect(page.getByText('The recycle bin is empty.')).toBeVisible();
  await expect(page.getByRole('status').filter({ hasText: '0 B of' })).toBeVisible();
});


test('chat attachments: "Attach" shows a progress bar; the others see the image as a thumbnail and the file as a card with Download', async ({ browser }) => {
  const alice = await newUser(browser, 'a');
  const bob = await newUser(browser, 'b');
  // The PDF's second piece (4 MiB on) is held until the refused send has been seen, so the
  // upload is still under way when Enter is pressed however fast this machine is; the other
  // pieces are slowed so the progress bar is seen moving.
  let release!: () => void;
  const held = new Promise<void>((r) => { release = r; });
  await alice.page.route('**/files/uploads/*?offset=*', async (route) => {
    if (/[?&]offset=0$/.test(route.request().url())) await new Promise((r) => setTimeout(r, 400));
    else await held;
    await route.continue();
  });
  const attach = alice.page.getByLabel('Attach', { exact: true });
  await attach.setInputFiles([
    { name: '方案.pdf', mimeType: 'application/pdf', buffer: Buffer.concat([Buffer.from('%PDF-1.7\n'), bytes(6 * 1024 * 1024, 3)]) },
    { name: '截图.png', mimeType: 'image/png', buffer: await png(800, 600) },
  ]);
  const bar = alice.page.getByRole('progressbar', { name: 'Uploading 方案.pdf' });
  await expect(bar).toBeVisible();
  await expect.poll(async () => Number(await bar.getAttribute('aria-valuenow'))).toBeGreaterThan(0);
  // Sending before the files are up is refused with a clear word, and loses nothing.
  const box = alice.page.getByRole('textbox', { name: 'Message' });
  // Its own words, so a repeated run finds its own message in the shared channel.
  const words = `请看附件 ${alice.name}`;
  await box.fill(words);
  await box.press('Enter');
  await expect(alice.page.getByRole('alert').filter({ hasText: 'finished uploading' })).toBeVisible();
  await expect(box).toHaveValue(words);
  release();
  await expect(alice.page.getByRole('button', { name: 'Remove 方案.pdf' })).toBeVisible({ timeout: 30_000 });
  await expect(alice.page.getByRole('button', { name: 'Remove 截图.png' })).toBeVisible();
  await box.press('Enter');
  await expect(box).toHaveValue('');

  const log = bob.page.getByRole('log', { name: 'Messages' });
  const message = log.locator('article.message').filter({ hasText: words });
  const card = message.getByRole('group', { name: '方案.pdf' });
  await expect(card).toContainText('6.0 MB');
  const image = message.getByRole('img', { name: '截图.png' });
  await expect(image).toBeVisible();
  await expect.poll(() => image.evaluate((img: HTMLImageElement) => img.naturalWidth)).toBe(400);
  await expect(message.getByRole('link', { name: '截图.png' })).toHaveAttribute('href', /download\?inline=true$/);
  const [download] = await Promise.all([
    bob.page.waitForEvent('download'),
    card.getByRole('link', { name: 'Download' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('方案.pdf');
});

test('file cabinet sharing: the audience picker shares a folder to edit, "Shared with me" follows live, a share link asks for its password, unsharing closes it', async ({ browser }) => {
  const alice = await newUser(browser, 'sa');
  const bob = await newUser(browser, 'sb');
  const page = alice.page;
  await page.getByRole('link', { name: 'Files' }).click();
  await expect(page.getByRole('heading', { name: 'Files' })).toBeVisible();
  await bob.page.getByRole('link', { name: 'Files' }).click();
  await bob.page.getByRole('button', { name: 'Shared with me' }).click();
  await expect(bob.page.getByText('Nothing is shared with you yet.')).toBeVisible();

  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('共享资料');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByRole('button', { name: '共享资料', exact: true }).click();
  await page.getByLabel('Upload', { exact: true }).setInputFiles({ name: '说明.txt', mimeType: 'text/plain', buffer: Buffer.from('请阅读') });
  const files = page.getByRole('table', { name: 'Files' });
  await expect(files.getByRole('link', { name: '说明.txt' })).toBeVisible();
  await page.getByRole('button', { name: 'My files' }).click();

  // The audience picker: a combobox that finds Bob, shown as a removable chip.
  await page.getByRole('button', { name: 'Share 共享资料' }).click();
  const dialog = page.getByRole('dialog', { name: 'Share 共享资料' });
  await expect(dialog.getByText('Not shared with anyone.')).toBeVisible();
  const audience = dialog.getByRole('combobox', { name: 'Audience' });
  await audience.fill(bob.name);
  await dialog.getByRole('option', { name: bob.name }).click();
  await expect(dialog.getByRole('button', { name: `Remove ${bob.name}` })).toBeVisible();
  await expect(audience).toHaveValue('');
  // Chips come off again; "Everyone" is offered on an empty search.
  await audience.focus();
  await expect(dialog.getByRole('option', { name: 'Everyone' })).toBeVisible();
  await audience.press('Escape');
  await dialog.getByLabel('Permission').selectOption('edit');
  await dialog.getByRole('button', { name: 'Share', exact: true }).click();
  await expect(dialog.getByRole('button', { name: `Stop sharing with ${bob.name}` })).toBeVisible();
  await expect(dialog.getByRole('button', { name: `Remove ${bob.name}` })).toHaveCount(0);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(files.getByText('Shared', { exact: true })).toBeVisible();

  // Bob's open "Shared with me" shows it at once; inside, he can add a file (edit), which
  // Alice sees arrive.
  const shared = bob.page.getByRole('table', { name: 'Shared with me' });
  await expect(shared.getByRole('button', { name: '共享资料' })).toBeVisible();
  await expect(shared.getByRole('row').filter({ hasText: '共享资料' })).toContainText('Edit');
  await shared.getByRole('button', { name: '共享资料' }).click();
  const inside = bob.page.getByRole('table', { name: 'Files' });
  await expect(inside.getByRole('link', { name: '说明.txt' })).toBeVisible();
  await bob.page.getByLabel('Upload', { exact: true }).setInputFiles({ name: '回复.txt', mimeType: 'text/plain', buffer: Buffer.from('已阅') });
  await expect(inside.getByRole('link', { name: '回复.txt' })).toBeVisible();
  await page.getByRole('button', { name: '共享资料', exact: true }).click();
  await expect(files.getByRole('link', { name: '回复.txt' })).toBeVisible();

  // A share link with a password, opened by someone with no account.
  await page.getByRole('button', { name: 'Share 说明.txt' }).click();
  const fileDialog = page.getByRole('dialog', { name: 'Share 说明.txt' });
  await fileDialog.getByLabel('Link password').fill('芝麻开门');
  await fileDialog.getByRole('button', { name: 'Create link' }).click();
  const link = fileDialog.locator('a.share-link');
  await expect(link).toHaveCount(1);
  await expect(fileDialog.getByText('with password')).toBeVisible();
  const url = await link.textContent();
  expect(url).toMatch(/^http:\/\/[^/]+\/share\/[A-Za-z0-9_-]{20,}$/);
  await fileDialog.getByRole('button', { name: 'Close' }).click();
  const stranger = await browser.newContext();
  try {
    const anon = await stranger.newPage();
    await anon.goto(url!);
    await expect(anon.getByRole('heading', { name: '说明.txt' })).toBeVisible();
    await anon.getByLabel('Password').fill('open sesame');
    await anon.getByRole('button', { name: 'Download' }).click();
    await expect(anon.getByRole('alert')).toHaveText('That password is not right.');
    await anon.getByLabel('Password').fill('芝麻开门');
    const [download] = await Promise.all([
      anon.waitForEvent('download'),
      anon.getByRole('button', { name: 'Download' }).click(),
    ]);
    expect(download.suggestedFilename()).toBe('说明.txt');
    const fs = await import('node:fs');
    expect(fs.readFileSync(await download.path()).toString()).toBe('请阅读');
  } finally {
    await stranger.close();
  }

  // Unsharing: Bob's open folder closes and his list drops it.
  await page.getByRole('button', { name: 'My files' }).click();
  await page.getByRole('button', { name: 'Share 共享资料' }).click();
  await dialog.getByRole('button', { name: `Stop sharing with ${bob.name}` }).click();
  await expect(dialog.getByText('Not shared with anyone.')).toBeVisible();
  await expect(inside.getByRole('link', { name: '说明.txt' })).toHaveCount(0);
  await bob.page.getByRole('button', { name: 'Shared with me', exact: true }).click();
  await expect(bob.page.getByText('Nothing is shared with you yet.')).toBeVisible();
});

test('files dropped on or pasted into the composer are attached; a cabinet file moves between folders', async ({ browser }) => {
  const alice = await newUser(browser, 'dp');
  const page = alice.page;
  const box = page.getByRole('textbox', { name: 'Message' });
  const dropped = await page.evaluateHandle(() => {
    const dt = new DataTransfer();
    dt.items.add(new File(['dropped bytes'], '拖入.txt', { type: 'text/plain' }));
    return dt;
  });
  await box.dispatchEvent('drop', { dataTransfer: dropped });
  await expect(page.getByRole('button', { name: 'Remove 拖入.txt' })).toBeVisible();
  await box.evaluate((el) => {
    const dt = new DataTransfer();
    dt.items.add(new File(['pasted bytes'], '粘贴.png.txt', { type: 'text/plain' }));
    el.dispatchEvent(new ClipboardEvent('paste', { clipboardData: dt, bubbles: true, cancelable: true }));
  });
  await expect(page.getByRole('button', { name: 'Remove 粘贴.png.txt' })).toBeVisible();
  await box.fill('两个附件');
  await box.press('Enter');
  const message = page.getByRole('log', { name: 'Messages' }).locator('article.message:not(.pending)').filter({ hasText: '两个附件' });
  await expect(message.getByRole('group', { name: '拖入.txt' })).toBeVisible();
  await expect(message.getByRole('group', { name: '粘贴.png.txt' })).toBeVisible();

  // Move: a file at the top goes into a folder.
  await page.getByRole('link', { name: 'Files' }).click();
  await page.getByRole('button', { name: 'New folder' }).click();
  await page.getByLabel('Folder name').fill('归档');
  await page.getByRole('button', { name: 'Create' }).click();
  await page.getByLabel('Upload', { exact: true }).setInputFiles({ name: '旧报告.txt', mimeType: 'text/plain', buffer: Buffer.from('2025') });
  const files = page.getByRole('table', { name: 'Files' });
  await expect(files.getByRole('link', { name: '旧报告.txt' })).toBeVisible();
  await page.getByRole('button', { name: 'Move 旧报告.txt' }).click();
  await page.getByLabel('Move to').selectOption({ label: '归档' });
  await page.getByRole('button', { name: 'Move here' }).click();
  await expect(files.getByRole('link', { name: '旧报告.txt' })).toHaveCount(0);
  await page.getByRole('button', { name: '归档', exact: true }).click();
  await expect(files.getByRole('link', { name: '旧报告.txt' })).toBeVisible();
});
