import { expect, test, type Page } from '@playwright/test';
import { closeUsers, newAdmin, newUser, uniqueName } from './helpers';

test.afterEach(closeUsers);

function tree(page: Page) {
  return page.getByRole('list', { name: 'Departments' });
}

function department(page: Page, name: string) {
  return tree(page).getByRole('listitem').filter({ has: page.locator('.department-name', { hasText: new RegExp(`^${name}$`) }) });
}

test('departments: an admin builds the tree on the Admin page, every open admin page follows live', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const member = await newUser(browser, 'm');
  // Only admins get the link, and the page refuses everyone else.
  await expect(member.page.getByRole('link', { name: 'Admin' })).toHaveCount(0);
  await member.page.goto('/admin');
  await expect(member.page.getByRole('alert')).toHaveText('Only an admin may open this page.');

  await admin.page.getByRole('link', { name: 'Admin' }).click();
  await expect(admin.page.getByRole('heading', { name: 'Departments' })).toBeVisible();
  // A second tab of the admin, loaded from the server.
  const other = await admin.context.newPage();
  await other.goto('/admin');
  await expect(other.getByRole('heading', { name: 'Departments' })).toBeVisible();
  await expect(other.getByRole('status')).toHaveText('Connected');

  const hq = uniqueName('总部');
  const tech = uniqueName('技术部');
  await admin.page.getByLabel('Department name').fill(hq);
  await admin.page.getByRole('button', { name: 'Add department' }).click();
  await expect(department(other, hq)).toHaveCount(1);
  await expect(admin.page.getByLabel('Department name')).toHaveValue('');

  await admin.page.getByLabel('Department name').fill(tech);
  await admin.page.getByLabel('Parent department').selectOption({ label: hq });
  await admin.page.getByRole('button', { name: 'Add department' }).click();
  await expect(department(other, tech)).toHaveCount(1);
  await expect(other.getByLabel(`Parent of ${tech}`)).toHaveValue(/\d+/);

  // A taken name among siblings is refused with the reason.
  await admin.page.getByLabel('Department name').fill(tech);
  await admin.page.getByLabel('Parent department').selectOption({ label: hq });
  await admin.page.getByRole('button', { name: 'Add department' }).click();
  await expect(admin.page.getByRole('alert')).toContainText('already there');

  // Rename.
  const rnd = uniqueName('研发部');
  await department(admin.page, tech).getByRole('button', { name: `Rename ${tech}` }).click();
  await admin.page.getByLabel('New name').fill(rnd);
  await admin.page.getByRole('button', { name: 'Save' }).click();
  await expect(department(other, rnd)).toHaveCount(1);
  await expect(department(other, tech)).toHaveCount(0);

  // A department with a sub-department cannot be removed.
  await department(admin.page, hq).getByRole('button', { name: `Remove ${hq}` }).click();
  await expect(admin.page.getByRole('alert')).toContainText('is not empty');
  await expect(department(other, hq)).toHaveCount(1);

  // Move it to the top level, then the parent is empty and goes.
  await admin.page.getByLabel(`Parent of ${rnd}`).selectOption({ label: '(top level)' });
  await expect(other.getByLabel(`Parent of ${rnd}`)).toHaveValue('');
  await department(admin.page, hq).getByRole('button', { name: `Remove ${hq}` }).click();
  await expect(department(other, hq)).toHaveCount(0);
  await expect(department(admin.page, hq)).toHaveCount(0);
  await expect(department(other, rnd)).toHaveCount(1);
});

test('people: an admin defines roles, sets a person’s name, title, department and roles, and deactivates them', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const member = await newUser(browser, 'p');
  await admin.page.getByRole('link', { name: 'Admin' }).click();
  await expect(admin.page.getByRole('heading', { name: 'People', exact: true })).toBeVisible();
  const other = await admin.context.newPage();
  await other.goto('/admin');
  await expect(other.getByRole('heading', { name: 'People', exact: true })).toBeVisible();
  await expect(other.getByRole('status')).toHaveText('Connected');

  // "Invite people" in the People section makes a sign-up link.
  await admin.page.getByRole('button', { name: 'Invite people' }).click();
  await expect(admin.page.getByLabel('Invitation link')).toHaveValue(/\/signup\?invite=/);
  await admin.page.getByRole('dialog', { name: 'Invite people' }).getByRole('button', { name: 'Close' }).click();

  const role = uniqueName('HR');
  await admin.page.getByLabel('Role name').fill(role);
  await admin.page.getByRole('button', { name: 'Add role' }).click();
  await expect(other.getByRole('list', { name: 'Roles' }).getByText(role)).toBeVisible();
  const dept = uniqueName('人事部');
  await admin.page.getByLabel('Department name').fill(dept);
  await admin.page.getByRole('button', { name: 'Add department' }).click();
  await expect(department(admin.page, dept)).toHaveCount(1);

  const people = (page: Page) => page.getByRole('table', { name: 'People', exact: true });
  const row = (page: Page) => people(page).getByRole('row').filter({ has: page.getByRole('cell', { name: member.name, exact: true }) });
  await row(admin.page).getByRole('button', { name: `Edit ${member.name}` }).click();
  const form = admin.page.getByRole('form', { name: `Edit ${member.name}` });
  await form.getByLabel('Full name').fill('张伟');
  await form.getByLabel('Title').fill('工程师');
  await form.getByLabel('Main department').selectOption({ label: dept });
  await form.getByRole('checkbox', { name: role }).check();
  await form.getByRole('button', { name: 'Save' }).click();
  for (const page of [admin.page, other]) {
    await expect(row(page).getByRole('cell')).toHaveText([member.name, '张伟', '工程师', dept, role, 'Active', /Edit/]);
  }
  // A department with people in it stays.
  await department(admin.page, dept).getByRole('button', { name: `Remove ${dept}` }).click();
  await expect(admin.page.getByRole('alert').first()).toContainText('is not empty');

  // Deactivated: their open page goes to the log-in page, and they cannot log in again.
  await row(admin.page).getByRole('button', { name: `Deactivate ${member.name}` }).click();
  await expect(row(other).getByRole('cell').nth(5)).toHaveText('Deactivated');
  await expect(member.page).toHaveURL(/\/login/);
  // The page's code is loaded (a form posted before that is a plain HTML form post).
  await member.page.waitForLoadState('networkidle');
  await member.page.getByLabel('Username').fill(member.name);
  await member.page.getByLabel('Password').fill('correct horse battery');
  await member.page.getByRole('button', { name: 'Log in' }).click();
  await expect(member.page.getByRole('alert')).toHaveText('Wrong username or password');
  // Reactivated, they can.
  await row(admin.page).getByRole('button', { name: `Reactivate ${member.name}` }).click();
  await expect(row(other).getByRole('cell').nth(5)).toHaveText('Active');
  await member.page.getByRole('button', { name: 'Log in' }).click();
  await expect(member.page.getByRole('status')).toHaveText('Connected');

  // A password reset: a new password shown once to the admin; the person's page is logged
  // out, and the new password lets them in.
  await row(admin.page).getByRole('button', { name: `Reset password of ${member.name}` }).click();
  const dialog = admin.page.getByRole('dialog', { name: 'New password' });
  const password = await dialog.getByRole('textbox', { name: 'Temporary password' }).inputValue();
  expect(password).toHaveLength(12);
  await dialog.getByRole('button', { name: 'Close' }).click();
  await expect(member.page).toHaveURL(/\/login/);
  await member.page.waitForLoadState('networkidle');
  await member.page.getByLabel('Username').fill(member.name);
  await member.page.getByLabel('Password').fill(password);
  await member.page.getByRole('button', { name: 'Log in' }).click();
  await expect(member.page.getByRole('status')).toHaveText('Connected');
});

test('import: a CSV with a bad row is previewed with its errors and not imported; the fixed file imports whole, and an imported person logs in', async ({ browser }) => {
  const admin = await newAdmin(browser);
  const existing = await newUser(browser, 'taken');
  const top = uniqueName('总部');
  const fresh = uniqueName('imp');
  const other = uniqueName('imp');
  await admin.page.getByRole('link', { name: 'Admin' }).click();
  await expect(admin.page.getByRole('heading', { name: 'Import people' })).toBeVisible();
  const good = `张伟,${fresh},${top}/技术部,工程师,13800138000,${fresh}@example.com`;
  const bad = `姓名,账号,部门,职务,手机,邮箱\n${good}\n李娜,${existing.name},${top}/财务部,,,\n`;
  await admin.page.getByLabel('Import file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(bad) });
  const preview = admin.page.getByRole('table', { name: 'Import preview' });
  await expect(preview.getByRole('row')).toHaveCount(3);
  const badRow = preview.getByRole('row').filter({ hasText: existing.name });
  await expect(badRow).toContainText('is taken');
  await expect(admin.page.getByRole('alert').filter({ hasText: '2 rows, 1 with problems' })).toBeVisible();
  await expect(admin.page.getByRole('button', { name: /^Import \d+ people$/ })).toHaveCount(0);
  // Nothing was written: the good row's person is not among the people.
  await expect(admin.page.getByRole('table', { name: 'People', exact: true }).getByRole('cell', { name: fresh, exact: true })).toHaveCount(0);

  const fixed = `Name,Username,Department,Title\n${good.split(',').slice(0, 4).join(',')}\n王芳,${other},${top},经理\n`;
  await admin.page.getByLabel('Import file').setInputFiles({ name: 'people.csv', mimeType: 'text/csv', buffer: Buffer.from(fixed) });
  await expect(admin.page.getByText(`Departments to be made: ${top}, ${top}/技术部`)).toBeVisible();
  await admin.page.getByRole('button', { name: 'Import 2 people' }).click();
  const imported = admin.page.getByRole('table', { name: 'Imported people' });
  await expect(imported.getByRole('row')).toHaveCount(3);
  // The People table and the department tree follow at once.
  await expect(admin.page.getByRole('table', { name: 'People', exact: true }).getByRole('cell', { name: fresh, exact: true })).toBeVisible();
  await expect(admin.page.getByRole('list', { name: 'Departments' }).locator('.department-name', { hasText: top }).first()).toBeVisible();
  const password = await imported.getByRole('row').filter({ hasText: fresh }).locator('code').textContent();

  const context = await browser.newContext();
  const page = await context.newPage();
  await page.goto('/login');
  await page.getByLabel('Username').fill(fresh);
  await page.getByLabel('Password').fill(password ?? '');
  await page.getByRole('button', { name: 'Log in' }).click();
  await expect(page.getByRole('status').filter({ hasText: 'Connected' })).toBeVisible();
  await context.close();
});
