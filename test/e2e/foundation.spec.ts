// The foundation's promises, in real Chromium against `npm start`: the demo course loads, the app boots
// offline after one visit, and a change made in one browser appears in another.
import { expect, test } from '@playwright/test';
import { cell, openCourse, signIn } from './helpers';

test('a teacher signs in and the demo course loads with computed totals', async ({ page }) => {
  await signIn(page, 'teacher1');
  await expect(page.getByTestId('course-list')).toContainText('Physics 101');
  await openCourse(page, 'Physics 101');
  const grid = page.getByTestId('grader-grid');
  await expect(grid.getByRole('columnheader', { name: /Lab 1: Pendulum/ })).toBeVisible();
  await expect(grid.getByRole('columnheader', { name: /Course total/ })).toBeVisible();
  // 40 students, each with a computed course total (a number, not "-")
  await expect(page.getByTestId('grader-grid')).toHaveAttribute('aria-rowcount', '41');
  await expect(cell(page, 'course', 's20')).toHaveText(/^\d+(\.\d+)?$/);
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'synced');
  await page.screenshot({ path: 'test-results/screens/grader-report.png' });
});

test('after one visit the app boots offline and shows the last data', async ({ page, context }) => {
  await signIn(page, 'teacher1');
  await openCourse(page, 'Physics 101');
  const total = await cell(page, 'course', 's40').textContent();
  expect(total).toMatch(/\d/);
  // the service worker takes control after a reload (prompt strategy: no clientsClaim on first load)
  await page.waitForFunction(async () => (await navigator.serviceWorker.ready).active !== null);
  await page.reload();
  await expect.poll(() => page.evaluate(() => navigator.serviceWorker.controller !== null)).toBe(true);
  await expect(page.getByTestId('grader-grid')).toBeVisible();

  await context.setOffline(true);
  await page.reload();
  await expect(page.getByTestId('grader-grid')).toBeVisible();
  await expect(cell(page, 'course', 's40')).toHaveText(total!);
  await expect(page.getByTestId('sync-status')).toHaveAttribute('data-state', 'offline');
});

test('a grade typed in one browser appears in another, with its course total', async ({ browser }) => {
  const a = await browser.newContext();
  const b = await browser.newContext();
  const pa = await a.newPage();
  const pb = await b.newPage();
  await signIn(pa, 'teacher1');
  await signIn(pb, 'teacher2');
  await openCourse(pa, 'Physics 101');
  await openCourse(pb, 'Physics 101');

  const before = await cell(pb, 'course', 's20').textContent();
  const target = cell(pa, 'i-mid', 's20');
  await target.click();
  await pa.keyboard.type('50');
  await pa.keyboard.press('Enter');
  await expect(cell(pa, 'i-mid', 's20')).toHaveText('50.00');
  await expect(cell(pb, 'i-mid', 's20')).toHaveText('50.00');
  // totals are derived on each device from the synced raw data
  await expect(cell(pb, 'course', 's20')).toHaveText(await cell(pa, 'course', 's20').textContent() ?? '');
  expect(await cell(pb, 'course', 's20').textContent()).not.toBe(before);
  await a.close();
  await b.close();
});
