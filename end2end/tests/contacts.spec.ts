import { expect, test, type Page } from '@playwright/test';
import { closeUsers, newAdmin, newUser, uniqueName } from './helpers';

test.afterEach(closeUsers);

/** A Chinese name nobody else in the run is likely to have, with its pinyin and initials. */
function chineseName() {
  const syllables: [string, string][] = [
    ['张', 'zhang'], ['王', 'wang'], ['李', 'li'], ['赵', 'zhao'], ['刘', 'liu'], ['陈', 'chen'],
    ['杨', 'yang'], ['黄', 'huang'], ['周', 'zhou'], ['吴', 'wu'], ['徐', 'xu'], ['孙', 'sun'],
    ['马', 'ma'], ['朱', 'zhu'], ['胡', 'hu'], ['郭', 'guo'], ['何', 'he'], ['高', 'gao'],
  ];
  const picked = Array.from({ length: 4 }, () => syllables[Math.floor(Math.random() * syllables.length)]);
  return {
    name: picked.map(([c]) => c).join(''),
    pinyin: picked.map(([, p]) => p).join(''),
    initials: picked.map(([, p]) => p[0]).join(''),
  };
}

async function setPerson(admin: Page, username: string, fullName: string, title: string, department?: string, contact?: { mobile: string; email: string }) {
  const row = admin.getByRole('table', { name: 'People', exact: true }).getByRole('row')
    .filter({ has: admin.getByRole('cell', { name: username, exact: true }) });
  await row.getByRole('button', { name: `Edit ${username}` }).click();
  const form = admin.getByRole('form', { name: `Edit ${username}` });
  await form.getByLabel('Full name').fill(fullName);
  await form.getByLabel('Title').fill(title);
  if (department) await form.getByLabel('Main department').selectOption({ label: department });
  if (contact) {
    await form.getByLabel('Mobile').fill(contact.mobile);
    await form.getByLabel('Email').fill(contact.email);
  }
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(row.getByRole('cell').nth(1)).toHaveText(fullName);
}

test('address book: find people by name, pinyin and initials, browse by department, open a card and send a message', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const wanted = await newUser(browser, 'w');
  const viewer = await newUser(browser, 'v');
  const person = chineseName();
  let other = chineseName();
  while (other.initials === person.initials) other = chineseName();

  await admin.page.getByRole('link', { name: 'Admin' }).click();
  const top = uniqueName('总部');
  const team = uniqueName('前端组');
  await admin.page.getByLabel('Department name').fill(top);
  await admin.page.getByRole('button', { name: 'Add department' }).click();
  await admin.page.getByLabel('Department name').fill(team);
  await admin.page.getByLabel('Parent department').selectOption({ label: top });
  await admin.page.getByRole('button', { name: 'Add department' }).click();
  const mobile = `+86 139-${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}-${String(Math.floor(Math.random() * 1e4)).padStart(4, '0')}`;
  const email = `${wanted.name}@example.com`;
  await setPerson(admin.page, wanted.name, person.name, '工程师', `${top}/${team}`, { mobile, email });
  await setPerson(admin.page, viewer.name, other.name, '设计师');

  await viewer.page.getByRole('link', { name: 'Address book' }).click();
  await expect(viewer.page.getByRole('heading', { name: 'Address book' })).toBeVisible();
  const list = viewer.page.getByRole('list', { name: 'People', exact: true });
  const entry = list.getByRole('listitem').filter({ has: viewer.page.getByRole('button', { name: person.name, exact: true }) });
  const me = list.getByRole('listitem').filter({ has: viewer.page.getByRole('button', { name: other.name, exact: true }) });
  const search = viewer.page.getByRole('searchbox', { name: 'Search people' });
  const digits = mobile.replace(/\D/g, '');
  for (const query of [person.initials, person.pinyin, person.name.slice(0, 2), wanted.name.toUpperCase(), digits.slice(-8), email]) {
    await search.fill(query);
    await expect(entry, query).toHaveCount(1);
    await expect(me, query).toHaveCount(0);
  }
  await expect(entry.locator('.presence')).toHaveText('Online');
  await expect(entry.locator('.mobile')).toHaveText(mobile);
  // The person hides their number: it leaves every open address book at once.
  await wanted.page.getByRole('button', { name: 'Settings' }).click();
  await wanted.page.getByRole('checkbox', { name: 'Hide my mobile number from others' }).check();
  await expect(entry.locator('.mobile')).toHaveText('');
  await search.fill(digits.slice(-8));
  await expect(entry).toHaveCount(0);
  await search.fill(email);
  await expect(entry).toHaveCount(1);
  await expect(entry).toContainText(`${top}/${team}`);

  // Live: the admin changes the title while the address book is open.
  await setPerson(admin.page, wanted.name, person.name, '架构师');
  await expect(entry).toContainText('架构师');

  // A department shows the people in it and below it.
  await search.fill('');
  await viewer.page.getByRole('navigation', { name: 'Departments' }).getByRole('button', { name: top, exact: true }).click();
  await expect(entry).toHaveCount(1);
  await expect(me).toHaveCount(0);

  // The address book as a file.
  const [download] = await Promise.all([
    viewer.page.waitForEvent('download'),
    viewer.page.getByRole('link', { name: 'Export CSV' }).click(),
  ]);
  expect(download.suggestedFilename()).toBe('contacts.csv');
  const { readFile } = await import('node:fs/promises');
  const csv = await readFile(await download.path(), 'utf8');
  expect(csv).toContain(`${person.name},${wanted.name},${top}/${team},架构师,,${email}`);

  // The card, and a direct message from it.
  await entry.getByRole('button', { name: person.name, exact: true }).click();
  const card = viewer.page.getByRole('region', { name: person.name });
  await expect(card).toContainText(wanted.name);
  await card.getByRole('button', { name: 'Send message' }).click();
  await expect(viewer.page).toHaveURL(/\/c\/\d+$/);
  await expect(viewer.page.getByRole('heading', { level: 1 })).toContainText(wanted.name);
});

test('my contacts: add one, group it, import a vCard, live in a second tab; nobody else sees them', async ({ browser }) => {
  const owner = await newUser(browser, 'mc');
  const other = await newUser(browser, 'mo');
  const page = owner.page;
  const second = await owner.context.newPage();
  for (const p of [page, second]) {
    await p.goto('/contacts');
    // Hydrated (the socket is up) before the first click, or the click does nothing.
    await expect(p.getByRole('status')).toHaveText('Connected');
    await p.getByRole('button', { name: 'My contacts' }).click();
  }
  const table = page.getByRole('table', { name: 'My contacts' });
  const secondTable = second.getByRole('table', { name: 'My contacts' });

  await page.getByRole('button', { name: 'New contact' }).click();
  const form = page.getByRole('form', { name: 'Contact' });
  await form.getByLabel('Name', { exact: true }).fill('王经理');
  await form.getByLabel('Company').fill('华东贸易');
  await form.getByLabel('Mobile').fill('+86 139 0000 1111');
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(table.getByRole('row').filter({ hasText: '王经理' })).toContainText('华东贸易');
  await expect(secondTable.getByRole('row').filter({ hasText: '王经理' })).toBeVisible();

  // A group, and the contact put in it.
  await page.getByLabel('Group name').fill('供应商');
  await page.getByRole('button', { name: 'New group' }).click();
  await page.getByRole('button', { name: 'Edit 王经理' }).click();
  await form.getByLabel('Group').selectOption({ label: '供应商' });
  await form.getByRole('button', { name: 'Save' }).click();
  await expect(secondTable.getByRole('row').filter({ hasText: '王经理' })).toContainText('供应商');

  // A vCard file from a phone: both cards come in.
  const vcf = 'BEGIN:VCARD\r\nVERSION:3.0\r\nFN:赵敏\r\nORG:明教\r\nEMAIL:zhao@example.com\r\nEND:VCARD\r\nBEGIN:VCARD\r\nVERSION:2.1\r\nN:Smith;John;;;\r\nTEL;CELL:13800000000\r\nEND:VCARD\r\n';
  await page.getByLabel('Import vCard').setInputFiles({ name: 'phone.vcf', mimeType: 'text/vcard', buffer: Buffer.from(vcf) });
  await expect(page.getByRole('status').filter({ hasText: '2 contacts imported.' })).toBeVisible();
  await expect(secondTable.getByRole('row').filter({ hasText: '赵敏' })).toContainText('明教');
  await expect(secondTable.getByRole('row').filter({ hasText: 'John Smith' })).toContainText('13800000000');

  await page.getByRole('button', { name: 'Delete 赵敏' }).click();
  await expect(secondTable.getByRole('row').filter({ hasText: '赵敏' })).toHaveCount(0);

  // Another person's list is their own.
  await other.page.goto('/contacts');
  await expect(other.page.getByRole('status')).toHaveText('Connected');
  await other.page.getByRole('button', { name: 'My contacts' }).click();
  await expect(other.page.getByRole('table', { name: 'My contacts' })).toBeVisible();
  await expect(other.page.getByRole('table', { name: 'My contacts' }).getByRole('row').filter({ hasText: '王经理' })).toHaveCount(0);
});

test('address book fields: an admin adds one, a person fills it in under Settings, others see it on the card', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const member = await newUser(browser, 'af');
  const field = uniqueName('分机');
  await admin.page.getByRole('link', { name: 'Admin' }).click();
  await admin.page.getByLabel('Field name').fill(field);
  await admin.page.getByRole('button', { name: 'Add field' }).click();
  await expect(admin.page.getByRole('list', { name: 'Address book fields' })).toContainText(field);

  await member.page.getByRole('button', { name: 'Settings' }).click();
  const form = member.page.getByRole('form', { name: 'Address book fields' });
  await form.getByLabel(field).fill('8021');
  await form.getByRole('button', { name: 'Save fields' }).click();
  await expect(form.getByRole('status')).toHaveText('Saved.');

  await admin.page.getByRole('link', { name: 'Address book' }).click();
  await admin.page.getByRole('searchbox', { name: 'Search people' }).fill(member.name);
  await admin.page.getByRole('button', { name: member.name, exact: true }).click();
  await expect(admin.page.getByRole('region', { name: member.name })).toContainText(`${field}8021`);
});
