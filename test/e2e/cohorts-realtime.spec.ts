// The site-wide real-time switch for dynamic cohorts: an admin turns it off, it is kept in the site directory
// (seen after a reload), and turning it back on restores it.
import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('an admin switches real-time cohort processing off and on; the choice is kept', async ({ page }) => {
  await signIn(page, 'admin');
  await page.getByRole('link', { name: 'Cohorts' }).click();
  const sw = page.getByLabel(/Process in real time/);
  await expect(sw).toBeChecked();
  await sw.uncheck();
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
  await page.reload();
  await expect(page.getByLabel(/Process in real time/)).not.toBeChecked();
  await page.getByLabel(/Process in real time/).check();
  await page.reload();
  await expect(page.getByLabel(/Process in real time/)).toBeChecked();
});
