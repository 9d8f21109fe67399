import { expect, test } from '@playwright/test';
import { send, signUp, uniqueName } from './helpers';

// Not `newUser`: this test makes the page's code stop on purpose, which `closeUsers` would
// report as a failure.
test('a part whose code cannot load (the site was updated): the page says so and Reload brings it back', async ({ browser }) => {
  const context = await browser.newContext();
  try {
    const page = await context.newPage();
    await signUp(page, uniqueName('fault'));
    const text = `fault ${Date.now()}`;
    await send(page, text);
    const mine = page.getByRole('log', { name: 'Messages' }).locator('article.message:not(.pending)', { hasText: text });
    // The first screen's code is in; from here on no other part's code can be fetched, as
    // after a redeploy that replaced the files this page was built with.
    const chunks = /\/pkg\/.*\.wasm(\?.*)?$/;
    await page.route(chunks, (route) => route.abort());
    await mine.getByRole('button', { name: 'Edit' }).click();
    const alert = page.getByRole('alert').filter({ hasText: 'Part of this page could not load (Xietong may have been updated): please reload it' });
    await expect(alert).toBeVisible();
    await page.unroute(chunks);
    await alert.getByRole('link', { name: 'Reload' }).click();
    await expect(page.getByRole('status')).toHaveText('Connected');
    await expect(alert).toHaveCount(0);
    await mine.getByRole('button', { name: 'Edit' }).click();
    await expect(page.getByRole('textbox', { name: 'Edit message' })).toBeFocused();
  } finally {
    await context.close();
  }
});
