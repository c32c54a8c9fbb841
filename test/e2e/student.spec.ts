// A student in real Chromium: sees only their own released grades (the server's projection), never the
// gradebook; hidden items are left out as the course settings say, and the report stays readable offline.
import { expect, test } from '@playwright/test';
import { signIn } from './helpers';

test('a student sees only their own report, without hidden items, also offline', async ({ page, context }) => {
  await signIn(page, 'student20');
  await expect(page.getByTestId('course-list')).toContainText('Physics 101');
  await page.getByRole('link', { name: 'Physics 101' }).click();
  const report = page.getByTestId('user-report');
  await expect(report).toContainText('Your grades');
  await expect(report.locator('[data-item="i-lab1"]')).toBeVisible();
  // the final exam is hidden from students: no row, and no grade of it anywhere in the page
  await expect(report.locator('[data-item="i-final"]')).toHaveCount(0);
  await expect(page.getByTestId('grader-grid')).toHaveCount(0);
  await expect(page.getByText('Ada Ivanova')).toHaveCount(0); // another student's name never reaches this page
  await page.screenshot({ path: 'test-results/screens/student-report.png', fullPage: true });

  // the service worker controls the page from the reload after it activated
  await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active !== null);
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(report.locator('[data-item="i-lab1"]')).toBeVisible();
  await context.setOffline(true);
  await page.reload();
  await expect(report.locator('[data-item="i-lab1"]')).toBeVisible();
});
