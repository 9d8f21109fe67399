import { test, expect } from '@playwright/test';
import { closeUsers, PASSWORD, uniqueName } from './helpers';

test.afterEach(closeUsers);

test('language: a Chinese browser gets the Chinese interface; the Language setting overrides it in every tab', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'zh-CN' });
  try {
    const page = await context.newPage();
    await page.goto('/signup');
    await expect(page.locator('html')).toHaveAttribute('lang', 'zh-CN');
    await page.getByLabel('用户名').fill(uniqueName('zh'));
    await page.getByLabel('密码').fill(PASSWORD);
    await page.getByRole('button', { name: '注册' }).click();
    await expect(page.getByRole('log', { name: '消息' })).toBeVisible();
    await expect(page.getByRole('status')).toHaveText('已连接');
    await expect(page.getByRole('navigation', { name: '频道' })).toBeVisible();
    await expect(page.getByRole('textbox', { name: '消息' })).toBeVisible();
    await expect(page.getByRole('searchbox', { name: '搜索' })).toBeVisible();

    // A second tab of the same person follows the setting too.
    const other = await context.newPage();
    await other.goto('/');
    await expect(other.getByRole('status')).toHaveText('已连接');

    await page.getByRole('button', { name: '设置', exact: true }).click();
    await page.getByLabel('语言').selectOption('en');
    // Both tabs reload in English.
    for (const tab of [page, other]) {
      await expect(tab.getByRole('button', { name: 'Settings', exact: true })).toBeVisible();
      await expect(tab.locator('html')).toHaveAttribute('lang', 'en');
      await expect(tab.getByRole('navigation', { name: 'Channels' })).toBeVisible();
      await expect(tab.getByRole('status')).toHaveText('Connected');
    }
    // The choice is kept on the server: a fresh load is English too.
    await page.reload();
    await expect(page.getByRole('textbox', { name: 'Message' })).toBeVisible();

    // Back to following the browser: Chinese again.
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Language').selectOption('');
    await expect(page.getByRole('button', { name: '设置', exact: true })).toBeVisible();
    await expect(other.getByRole('button', { name: '设置', exact: true })).toBeVisible();
  } finally {
    await context.close();
  }
});

test('language: an English browser gets English, and may choose Chinese', async ({ browser }) => {
  const context = await browser.newContext({ locale: 'en-US' });
  try {
    const page = await context.newPage();
    await page.goto('/login');
    await expect(page.locator('html')).toHaveAttribute('lang', 'en');
    await expect(page.getByRole('button', { name: 'Log in' })).toBeVisible();
    await page.goto('/signup');
    await page.getByLabel('Username').fill(uniqueName('en'));
    await page.getByLabel('Password').fill(PASSWORD);
    await page.getByRole('button', { name: 'Sign up' }).click();
    await expect(page.getByRole('status')).toHaveText('Connected');
    await page.getByRole('button', { name: 'Settings', exact: true }).click();
    await page.getByLabel('Language').selectOption('zh-CN');
    await expect(page.getByRole('navigation', { name: '私信' })).toBeVisible();
    await expect(page.getByRole('button', { name: '退出登录' })).toBeVisible();
    await expect(page.getByRole('status')).toHaveText('已连接');
  } finally {
    await context.close();
  }
});
