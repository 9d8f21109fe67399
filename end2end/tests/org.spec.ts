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
